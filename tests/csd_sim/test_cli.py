"""``settlement csd-sim``: the thin command that starts the simulator."""

from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli


def test_the_command_wants_a_gateway_key():
    result = CliRunner().invoke(cli, ["csd-sim", "--once"])
    assert result.exit_code == 2
    assert "give --api-key" in result.output


def test_an_unreachable_service_ends_the_run_with_a_message(tmp_path: Path):
    scenario = tmp_path / "csd.json"
    scenario.write_text('{"answer_format": "mt"}')
    arguments = ["csd-sim", "--url", "http://127.0.0.1:9", "--api-key", "k", "--once"]
    result = CliRunner().invoke(cli, [*arguments, "--scenario", str(scenario)])
    assert result.exit_code == 1
    assert "the service at http://127.0.0.1:9 did not answer as the contract says" in result.output


def test_a_wrong_scenario_is_named(tmp_path: Path):
    scenario = tmp_path / "csd.json"
    scenario.write_text('{"answer_format": "pdf"}')
    arguments = ["csd-sim", "--api-key", "k", "--once", "--scenario", str(scenario)]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 2
    assert "answer_format: 'pdf' is not auto, xml or mt" in result.output
