"""Issue 16 item 2, as the QA tester saw it on the console: a Dutch admin reads no English
(role and community words, the form note), an English one reads English."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import wolbot

APP = 'workspaces:\n  "console:local":\n    admins: [kees, alice]\n'


def test_dutch_admin_on_the_console(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(APP)
    result = wolbot(
        "chat",
        cwd=tmp_path,
        stdin=(
            "@kees\nIk ben bezig met de AVG-verzoeken\n"
            "/wol instellingen community toevoegen #general dialoog\n"
            "/wol instellingen community bewerk #general\n"
        ),
    )
    assert result.returncode == 0, result.stderr
    assert (
        "#general is nu een dialoog-community. Pas het aan met /wol instellingen "
        "community bewerk #general." in result.stdout
    )
    assert (
        "maakt van het kanaal een community: hardop-werken, dialoog of durf-te-vragen"
        in result.stdout
    )
    assert "(formulieren werken alleen in Slack of Teams)" in result.stdout
    assert "forms need" not in result.stdout


def test_english_admin_on_the_console(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(APP)
    result = wolbot(
        "chat",
        cwd=tmp_path,
        stdin=(
            "@alice\nI am working on the onboarding checklist\n"
            "/wol config community add #general dialogue\n"
            "/wol config community edit #general\n"
        ),
    )
    assert result.returncode == 0, result.stderr
    assert (
        "#general is now a dialogue community. Adjust it with /wol config community edit "
        "#general." in result.stdout
    )
    assert "(forms need Slack or Teams)" in result.stdout


def test_what_went_by_dm_is_announced_in_the_channel_not_in_the_dm(tmp_path: Path) -> None:
    """The console has only-you messages, as Slack has: asked in a channel, the chart and the
    export go to the DM and the answer in the channel says so, in each reader's language;
    asked in the DM, nothing says so (Teams, whose answers land in the personal chat, never
    does: tests/adapters/teams/test_teams_files.py)."""
    (tmp_path / "app.yaml").write_text(APP)
    result = wolbot(
        "chat",
        cwd=tmp_path,
        stdin=(
            "@alice #general\n/wol stats\n/wol privacy export\n"
            "@kees\n/wol taal nl\n/wol cijfers\n/wol privacy exporteer\n"
            "@alice #dm\n/wol stats\n/wol privacy export\n"
            "@kees #dm\n/wol cijfers\n/wol privacy exporteer\n"
        ),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for person, notes in (
        (
            "alice",
            (
                "I've sent you the chart in a direct message.",
                "I'm sending your data to you in a direct message.",
            ),
        ),
        (
            "kees",
            (
                "De grafiek staat in een privébericht voor je klaar.",
                "Ik stuur je gegevens in een privébericht.",
            ),
        ),
    ):
        for note in notes:
            assert out.count(f"[#general] wolbot (only to {person}): {note}") == 1, out
            assert out.count(note) == 1, out  # not again when asked in the DM
    assert out.count("wolbot sent a file: exports/wolbot-stats-") == 4
    assert out.count("wolbot sent a file: exports/wolbot-export-") == 4
