"""How much a narration says: the specificity gate of matching.

"I'm working on the project", "Ik ben bezig met mijn mail wegwerken", "meetings, meetings,
meetings": a sentence encoder puts such content-free narrations close to each other (two
of them scored 0.92), so without a gate the bot connects people on nothing. A narration's
*specificity* is the weight of the content-bearing words left once function words and
generic work words (Dutch and English, `GENERIC`) are taken away: each word counts up to
1, less the more of the workspace's narrations use it (inverse document frequency, once a
workspace has enough of them), and names, acronyms and codes ("HiX", "PRJ-4711", "AVG")
always count fully. The gate works both ways (`ranking.WorkspaceIndex.rank`): a narration
below `MatchPolicy.min_specificity` gets no suggestions and is never suggested to others.

The word lists are the reference corpus here: they were written from the vague narrations
of the training data (/work/train, written for this purpose, never from an evaluation set)
and common Dutch/English function words; docs/matching.md says how the bar was chosen.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.matching.lexical import signal_tokens

_WORD = re.compile(r"[^\W_](?:[\w'’.]*[^\W_])?", re.UNICODE)


def _word_list(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words, pronouns, auxiliaries, quantifiers and fillers in both languages.
STOP = _word_list(
    """
a about above after again all almost also am an and another any anything are around as at
away back be been before being below between both but by can could did do does doing done
down during each either else enough even ever every everything few for from further get gets
getting go going got had has have having he her here hers him his how i if im i'm in into is
it it's its just last less let lot lots many me more most much my myself new next no not now
of off old on once one only or other our ours out over own per quite rather really same she
should since so some something still such than that the their theirs them then there these
they thing this those through to today too under until up upon us very via was we week weeks
were what when where which while who whom why will with within without would yet you your
yours day days currently mostly usually bit little again etc ie eg usual various general
nothing everyone everybody someone somebody further first second third
aan af al alle alles als alweer andere anders ben ben bij bijna binnen boven daar daarna
dan dat de deze die dit doe doen doet door dus echt een eens eigen elk elke en er even
gaan gaat geen had heb hebben heeft hem het hier hij hoe hun ik in is ja je jij jou jouw
juist kan kon kunnen later maar me meer meest met mij mijn mijne misschien moet moeten
mogelijk na naar nee niet niets nog nogal nu of om omdat ons onze ook op over paar per
sinds soms te tegen toch toe tot tussen u uit uw van veel verder via vooral voor vrij waar
wat we weer week weken wel welke werd wie wij wil worden wordt ze zich zij zijn zo zoals
zonder zou zullen zulk dag dagen vandaag momenteel eigenlijk beetje wat nou gewoon iets
iemand iedereen allemaal enkele sommige diverse diversen verschillende overig overige
huidige komende afgelopen ander volgende vorige
"""
)

# Generic work words: what nearly every narration could say, about any work. A narration
# made only of these (and function words) says nothing to match on.
GENERIC = _word_list(
    """
work working works worked job jobs task tasks todo todos stuff things thing project projects
projectje item items issue issues matter matters topic topics subject business busy
email emails e-mail e-mails mail mails mailbox inbox inboxes message messages chat chats
meeting meetings call calls calls sync syncs standup standups catch-up catchup catching
admin administration paperwork planning plan plans schedule agenda calendar
report reports reporting document documents docs doc file files note notes
team teams colleague colleagues people manager managers department departments
customer customers client clients stakeholder stakeholders
follow follow-up followup following up backlog deadline deadlines priorities priority
review reviews update updates status progress overview improvements improvement
support helping help questions question answers answer problems problem fixes fix
various misc miscellaneous general regular normal usual daily weekly monthly yearly
office desk computer laptop online offline phone
preparing prepare prepared finishing finish finished starting start started continuing
continue doing making make made handling handle sorting sort clearing clear cleaning
dealing deal looking look checking check trying try writing write reading read running
thinking organising organizing organise organize arranging arrange wrapping wrap
ongoing current upcoming other important urgent small big large quick loads bunch
holiday holidays vacation leave-backlog
morning afternoon evening today tomorrow yesterday monday tuesday wednesday thursday
friday weekend month months year quarter
werk werken werkzaamheden klus klussen klusjes taak taken takenlijst todo dingen ding zaken
zaak zaakjes project projecten projectje onderwerp onderwerpen kwestie kwesties
mail mails e-mail e-mails mailtjes mailbox inbox berichten bericht appjes app chat
overleg overleggen overleggetjes vergadering vergaderingen vergaderen meeting meetings
afspraak afspraken belletje belletjes bellen gesprek gesprekken
administratie admin papierwerk planning plannen agenda rooster
rapport rapportage rapportages verslag verslagen document documenten stukken stuk notities
team teams collega collega's collegas mensen leidinggevende afdeling afdelingen
klant klanten opdrachtgever opdrachtgevers
opvolgen opvolging achterstand achterstanden deadline deadlines prioriteiten prioriteit
bijwerken bijhouden afronden afmaken afhandelen regelen oppakken wegwerken opruimen
voorbereiden voorbereiding voorbereidingen uitzoeken nakijken doorlezen lezen schrijven
maken doen bezig bezigheden druk drukte lopende losse eindjes eindje overzicht updates
update status voortgang verbeteringen vragen vraag antwoorden problemen probleem
ondersteuning helpen hulp diverse divers algemeen algemene gewone normale dagelijkse
wekelijkse maandelijkse kantoor bureau computer laptop telefoon
ochtend middag avond morgen gisteren maandag dinsdag woensdag donderdag vrijdag weekend
maand maanden jaar kwartaal kleine grote snelle belangrijke dringende andere vakantie
hoop boel berg stapel
"""
)

# Words of the narration phrases themselves, when they survive in a DM or check-in answer.
PHRASE = _word_list("working bezig werk werkt aan i'm im")


def words(text: str) -> list[str]:
    """Lower-cased words, compounds split at hyphens ("Exchange-mailboxen")."""
    out: list[str] = []
    for match in _WORD.finditer(text.replace("-", " ").replace("/", " ")):
        word = match.group(0).lower().strip("'’.")
        if word:
            out.append(word)
    return out


def content_words(text: str) -> list[str]:
    """The words that may carry content: not function words, not generic work words, not
    bare numbers, at least three letters; each once, in order."""
    seen: dict[str, None] = {}
    for word in words(text):
        if word in STOP or word in GENERIC or word in PHRASE or word in seen:
            continue
        letters = sum(c.isalpha() for c in word)
        if letters < 3 and not any(c.isdigit() for c in word):
            continue
        if not letters:
            continue
        seen[word] = None
    return list(seen)


class WordStats:
    """Document frequencies of content words in one workspace, kept up to date."""

    MIN_DOCS = 30  # below this a workspace's frequencies say little: every word counts fully

    def __init__(self) -> None:
        self.df: Counter[str] = Counter()
        self.docs = 0

    def add(self, text: str) -> None:
        self.docs += 1
        self.df.update(content_words(text))

    def remove(self, text: str) -> None:
        self.docs = max(0, self.docs - 1)
        for word in content_words(text):
            left = self.df[word] - 1
            if left > 0:
                self.df[word] = left
            else:
                del self.df[word]

    def rarity(self, word: str) -> float:
        """1 for a word few narrations of the workspace use, falling towards 0 for one that
        a large share of them use (IDF relative to that of a word used once)."""
        if self.docs < self.MIN_DOCS:
            return 1.0
        df = self.df.get(word, 0)
        share = df / self.docs
        if share <= 0.02:
            return 1.0
        return max(0.0, min(1.0, math.log(1.0 / share) / math.log(50.0)))


def specificity(text: str, stats: WordStats | None = None) -> float:
    """How much `text` (a narration's topic) says: the summed weight of its content-bearing
    words (names, acronyms and codes count 1 each; other words their workspace rarity)."""
    names = signal_tokens(text)
    total = 0.0
    counted = set()
    for word in content_words(text):
        counted.add(word)
        total += 1.0 if word in names or stats is None else stats.rarity(word)
    # Short acronyms ("MT", "IC") are too short for a content word but are names.
    total += sum(
        1.0
        for t in names
        if t not in counted and t not in STOP and t not in GENERIC and not set(words(t)) & counted
    )
    return total


@dataclass(frozen=True, slots=True)
class VagueModel:
    """The second half of the gate, for one vector space: a logistic regression on the
    encoder's vectors that says "content-free" for wordings no word list foresees ("bits and
    pieces", "keeping the lights on"). Trained on the training texts only
    (bench/vague_train.py writes the file and chooses its bar); loaded on first use."""

    path: str

    def probabilities(self, vecs: np.ndarray) -> np.ndarray:
        w, b, _ = _load_model(self.path)
        found: np.ndarray = 1.0 / (1.0 + np.exp(-(np.asarray(vecs, np.float32) @ w + b)))
        return found

    def vague(self, vecs: np.ndarray) -> np.ndarray:
        """One boolean per row of `vecs` (or a 0-d array for one vector)."""
        return self.probabilities(vecs) >= _load_model(self.path)[2]


@functools.cache
def _load_model(path: str) -> tuple[np.ndarray, float, float]:
    data = np.load(path)
    return data["w"].astype(np.float32), float(data["b"]), float(data["bar"])


E5_VAGUE_MODEL = VagueModel(str(Path(__file__).with_name("vague_e5.npz")))
