"""Issue 16 on the real console (`wolbot chat`): natural phrasing, answering the bot."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import narrations, wolbot

NARRATIONS = [
    "Vandaag werk ik aan de nieuwe intranet-zoekfunctie",
    "Deze week werk ik aan de begroting",
    "Momenteel ben ik bezig met de AVG-verzoeken",
    "Ik ben momenteel bezig met de inwerkmap",
    "This week I'm working on the budget",
    "Currently working on the supplier contracts",
    "Today I'm working on the onboarding checklist",
]
NOT_NARRATIONS = [
    "Ik werk morgen thuis",
    "Who is working on the intranet?",
    "Is er iemand bezig met de intranet-zoekfunctie?",
]


def test_seven_phrasings_are_acknowledged_and_three_questions_are_not(tmp_path: Path) -> None:
    lines = [f"@p{i}\n{text}" for i, text in enumerate(NARRATIONS + NOT_NARRATIONS)]
    result = wolbot("chat", cwd=tmp_path, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("reacted 📝") == 7
    assert [author for author, _, _ in narrations(tmp_path / "wolbot.db")] == [
        f"p{i}" for i in range(7)
    ]


ROUND_YAML = """
workspaces:
  "console:local":
    admins: [me]
    channels:
      general:
        kind: dialogue
        rhythm: "0 10 * * tue"
        timezone: Europe/Amsterdam
        language: nl
"""


def test_answers_to_a_question_posted_by_run_due_close_with_one_summary(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(ROUND_YAML)
    wolbot("chat", cwd=tmp_path, stdin="hallo\n")
    posted = wolbot("run-due", "--at", "2026-11-24T10:02:00+01:00", cwd=tmp_path)
    assert "Vraag voor deze ronde" in posted.stdout, posted.stderr
    answers = "".join(f"@{who}\n> Mijn antwoord, van {who}.\n" for who in ("ann", "bob", "cem"))
    result = wolbot("chat", cwd=tmp_path, stdin=answers + "@me\n/wol ronde sluit\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Ronde afgesloten") == 1
    assert "3 collega's antwoordden." in result.stdout
    assert "(in thread, also sent to the channel)" in result.stdout


def test_a_button_printed_by_run_due_is_clicked_in_a_later_chat(tmp_path: Path) -> None:
    wolbot("chat", cwd=tmp_path, stdin="@sanne\n/wol me checkins mon 10:00\n")
    due = wolbot("run-due", "--at", "2026-11-23T10:01:00+01:00", cwd=tmp_path)
    assert "[1: Narrate my work] [2: Skip this week] [3: Turn check-ins off]" in due.stdout, (
        due.stderr
    )
    assert (
        "Answer here in a sentence or two, or use the Narrate my work button below to write it "
        "in a form." in due.stdout
    )
    result = wolbot("chat", cwd=tmp_path, stdin="@sanne #dm\n!2\n")
    assert "No problem, until next time." in result.stdout, result.stderr


def test_the_dutch_checkin_names_its_button(tmp_path: Path) -> None:
    """The check-in's hint names "Narrate my work" by the Dutch button's own label."""
    wolbot("chat", cwd=tmp_path, stdin="@joost\n/wol taal nl\n/wol ik checkins ma 10:00\n")
    due = wolbot("run-due", "--at", "2026-11-23T10:01:00+01:00", cwd=tmp_path)
    assert "[1: Hardop werken] [2: Deze week overslaan] [3: Check-ins uitzetten]" in due.stdout, (
        due.stderr
    )
    assert (
        "Antwoord hier in een zin of twee, of schrijf het in een formulier met de knop Hardop "
        "werken hieronder." in due.stdout
    )
