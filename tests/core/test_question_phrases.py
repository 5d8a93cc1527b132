"""The subject of a "who knows about …?" question (bot/features/question_phrases.py): the
question's own words off, in English and Dutch, and a bare topic left as it is."""

from __future__ import annotations

import pytest

from bot.features.question_phrases import QUESTION_PHRASES, command_topic, question_topic

CASES = [
    # a bare topic, as /wol who expects it: unchanged
    ("Intune", "Intune"),
    ("kubernetes upgrades", "kubernetes upgrades"),
    ("AVG-inzageverzoeken", "AVG-inzageverzoeken"),
    ("guidelines from the WHO", "guidelines from the WHO"),
    ("WHO-richtlijnen handhygiëne", "WHO-richtlijnen handhygiëne"),
    ("Intune?", "Intune"),
    # English questions
    ("who knows something about Intune?", "Intune"),
    ("Who is working on the intranet?", "the intranet"),
    ("who's working on the roster?", "the roster"),
    ("anyone who did a DPIA for a camera system?", "a DPIA for a camera system"),
    ("does anyone know about lean six sigma", "lean six sigma"),
    ("someone with experience in lean six sigma?", "lean six sigma"),
    ("is anyone working on the Omnibus rules?", "the Omnibus rules"),
    ("who has been through a Qmentum accreditation?", "been through a Qmentum accreditation"),
    ("anyone who has set up a SOC with a partner?", "set up a SOC with a partner"),
    ("I'm looking for someone who knows Power BI", "Power BI"),
    ("the new CAO rules — anyone?", "the new CAO rules"),
    ("Intune: who knows?", "Intune"),
    # Dutch questions
    ("wie heeft ervaring met Woo-verzoeken?", "Woo-verzoeken"),
    ("wie weet er iets van de nieuwe CAO-regeling", "de nieuwe CAO-regeling"),
    ("Is er iemand die ervaring heeft met TOPdesk?", "TOPdesk"),
    ("Hoi, wie werkt er aan het jaarplan?", "het jaarplan"),
    ("weet iemand iets over declaraties?", "declaraties"),
    ("doorliggen voorkomen, wie weet daar meer van?", "doorliggen voorkomen"),
    ("wie schrijft mee aan het jaarverslag?", "schrijft mee aan het jaarverslag"),
    # nothing but the question
    ("who?", ""),
    ("wie weet er iets van?", ""),
]


@pytest.mark.parametrize(("text", "topic"), CASES)
def test_the_subject_of_a_question(text: str, topic: str) -> None:
    assert question_topic(text) == topic


def test_every_phrase_is_in_the_notation() -> None:
    from bot.features.narration_phrases import compile_phrase

    for phrase in QUESTION_PHRASES:
        compile_phrase(phrase)  # raises PhraseError otherwise


COMMANDS = [
    # what follows `/wol who` / `/wol wie`, whose command word may be the question's own
    ("kubernetes upgrades", "kubernetes upgrades"),
    ("knows something about Intune?", "Intune"),
    ("is working on the intranet?", "the intranet"),
    ("has experience with Power BI", "Power BI"),
    ("does anyone know about Power BI?", "Power BI"),
    ("heeft er ervaring met AVG-inzageverzoeken?", "AVG-inzageverzoeken"),
    ("weet er iets van de nieuwe CAO?", "de nieuwe CAO"),
    ("werkt er aan het jaarplan", "het jaarplan"),
    ("kwantumchemie, wie weet daar meer van?", "kwantumchemie"),
    ("who knows about?", ""),
]


@pytest.mark.parametrize(("args", "topic"), COMMANDS)
def test_the_subject_of_a_command(args: str, topic: str) -> None:
    assert command_topic(args) == topic


@pytest.mark.parametrize(
    ("args", "topic"),
    [
        # after the command words "who knows" / "wie weet" (a name of `/wol who` itself)
        ("something about Microsoft 365 migrations?", "Microsoft 365 migrations"),
        ("about Intune", "Intune"),
        ("er iets van de nieuwe CAO?", "de nieuwe CAO"),
        ("iets over declaraties", "declaraties"),
        ("Intune", "Intune"),
    ],
)
def test_the_subject_after_a_longer_command_name(args: str, topic: str) -> None:
    names = ("who", "who knows", "wie", "wie weet")
    assert command_topic(args, names) == topic
