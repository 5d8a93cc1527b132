"""Microsoft Teams adapter (Bot Framework). Every botbuilder import stays in this package."""
