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
