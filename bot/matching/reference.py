"""Reference narrations: a fixed, generic corpus of work topics in English and Dutch.

Template texts (activity x subject x context), none of them from any workspace or from the
evaluation set. Two uses: the synthetic corpus of the matching benchmarks
(bench/matching_corpus.py), and the fixed statistics an embeddings endpoint's vectors are
centred with (`remote.CommonDirections`): measured on these texts, never on a workspace, so
they do not change as a workspace grows.
"""

from __future__ import annotations

import itertools
import random

ACTIVITIES_EN = [
    "improving",
    "automating",
    "migrating",
    "redesigning",
    "evaluating",
    "documenting",
    "reducing the cost of",
    "speeding up",
    "testing",
    "planning",
    "simplifying",
    "measuring",
    "replacing",
    "standardising",
    "piloting",
    "cleaning up",
    "securing",
    "digitising",
    "outsourcing",
    "reviewing",
]
ACTIVITIES_NL = [
    "verbeteren van",
    "automatiseren van",
    "migreren van",
    "herontwerpen van",
    "evalueren van",
    "documenteren van",
    "goedkoper maken van",
    "versnellen van",
    "testen van",
    "plannen van",
    "vereenvoudigen van",
    "meten van",
    "vervangen van",
    "standaardiseren van",
    "een pilot met",
    "opschonen van",
    "beveiligen van",
    "digitaliseren van",
    "uitbesteden van",
    "doorlichten van",
]
SUBJECTS_EN = [
    "the invoice approval workflow",
    "our patient intake",
    "the staff rostering",
    "the customer helpdesk",
    "the permit applications",
    "our data warehouse",
    "the onboarding of new hires",
    "the supplier contracts",
    "the school timetable",
    "our building maintenance",
    "the payroll run",
    "the complaint handling",
    "the IT asset register",
    "our website search",
    "the internal newsletter",
    "the training catalogue",
    "the expense claims",
    "our backup procedure",
    "the waiting list for home care",
    "the procurement process",
    "the annual reviews",
    "our mobile app releases",
    "the meeting room bookings",
    "the archive of case files",
    "the volunteer coordination",
]
SUBJECTS_NL = [
    "de goedkeuring van facturen",
    "onze patiëntintake",
    "de personeelsroosters",
    "de klantenservice",
    "de vergunningaanvragen",
    "ons datawarehouse",
    "het inwerken van nieuwe collega's",
    "de leverancierscontracten",
    "het lesrooster",
    "het gebouwonderhoud",
    "de salarisverwerking",
    "de klachtafhandeling",
    "het register van IT-middelen",
    "de zoekfunctie van onze website",
    "de interne nieuwsbrief",
    "de opleidingscatalogus",
    "de declaraties",
    "onze back-upprocedure",
    "de wachtlijst voor thuiszorg",
    "het inkoopproces",
    "de jaargesprekken",
    "de releases van onze app",
    "het reserveren van vergaderruimtes",
    "het archief met dossiers",
    "de coördinatie van vrijwilligers",
]
CONTEXTS_EN = [
    "for the finance department",
    "in the north region",
    "with the new ERP",
    "before the summer",
    "for two pilot teams",
    "together with the works council",
    "for the municipality",
    "in the hospital",
    "for our schools",
    "with an external partner",
    "using Power BI",
    "in SharePoint",
    "for the whole organisation",
    "with less paperwork",
    "so it fits the new law",
    "for our night shifts",
    "in three locations",
    "with the help of students",
    "based on user interviews",
    "within the current budget",
]
CONTEXTS_NL = [
    "voor de afdeling financiën",
    "in regio noord",
    "met het nieuwe ERP",
    "voor de zomer",
    "voor twee pilotteams",
    "samen met de ondernemingsraad",
    "voor de gemeente",
    "in het ziekenhuis",
    "voor onze scholen",
    "met een externe partner",
    "met Power BI",
    "in SharePoint",
    "voor de hele organisatie",
    "met minder papierwerk",
    "zodat het past bij de nieuwe wet",
    "voor onze nachtdiensten",
    "op drie locaties",
    "met hulp van stagiairs",
    "op basis van gebruikersinterviews",
    "binnen het huidige budget",
]


def texts(n: int, seed: int = 0) -> list[str]:
    """`n` distinct narration topics, half English, half Dutch (max 20,000)."""
    en = [f"{a} {s} {c}" for a, s, c in itertools.product(ACTIVITIES_EN, SUBJECTS_EN, CONTEXTS_EN)]
    nl = [
        f"het {a} {s} {c}" if not a.startswith("een") else f"{a} {s} {c}"
        for a, s, c in itertools.product(ACTIVITIES_NL, SUBJECTS_NL, CONTEXTS_NL)
    ]
    rng = random.Random(seed)
    rng.shuffle(en)
    rng.shuffle(nl)
    mixed = [t for pair in zip(en, nl, strict=True) for t in pair]
    if n > len(mixed):
        raise ValueError(f"at most {len(mixed)} distinct template texts")
    return mixed[:n]
