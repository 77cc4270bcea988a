"""deploy/systemd: without Docker, systemd starts web, the workers and beat again whenever
they exit, and never gives up (issue 18: a worker that exited waited for a person)."""

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
SERVICES = sorted(UNITS.glob("*.service"))


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(path)
    return parser


def test_the_target_starts_web_both_workers_and_beat():
    wanted = unit(UNITS / "leadbridge.target")["Unit"]["Wants"].split()
    assert sorted(wanted) == [path.name for path in SERVICES]
    assert [path.name for path in SERVICES] == [
        "leadbridge-beat.service",
        "leadbridge-web.service",
        "leadbridge-worker-bulk.service",
        "leadbridge-worker.service",
    ]


@pytest.mark.parametrize("path", SERVICES, ids=lambda path: path.stem)
def test_every_process_is_started_again_whenever_it_exits_without_giving_up(path):
    service = unit(path)
    assert service["Service"]["Restart"] == "always"
    assert service["Unit"]["StartLimitIntervalSec"] == "0"
    assert service["Install"]["WantedBy"] == "leadbridge.target"


@pytest.mark.parametrize(
    ("name", "queue"),
    [("leadbridge-worker", settings.CELERY_HANDOFF_QUEUE), ("leadbridge-worker-bulk", "bulk")],
)
def test_each_worker_listens_on_its_queue_with_celerys_host_name_escaped(name, queue):
    command = unit(UNITS / f"{name}.service")["Service"]["ExecStart"].split()
    assert command[command.index("--queues") + 1] == queue
    # systemd turns %% into %, and would turn a lone %h into the user's home directory.
    assert command[command.index("--hostname") + 1] == f"{queue}@%%h"
    assert unit(UNITS / f"{name}.service")["Service"]["KillMode"] == "mixed"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_make_systemd_units_renders_units_that_systemd_accepts(tmp_path):
    out = tmp_path / "units"
    subprocess.run(  # noqa: S603 - make with our own arguments
        ["make", "--no-print-directory", "systemd-units", f"APP_DIR={ROOT}",  # noqa: S607
         "APP_USER=root", f"SYSTEMD_OUT={out}"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    rendered = sorted(out.iterdir())
    assert [path.name for path in rendered] == sorted(p.name for p in UNITS.glob("leadbridge*"))
    for path in rendered:
        text = path.read_text()
        assert "@APP_" not in text
        # An environment file that exists, so that verify judges the units alone.
        env_file = tmp_path / "leadbridge.env"
        env_file.touch()
        path.write_text(text.replace("/etc/leadbridge/leadbridge.env", str(env_file)))
    verify = subprocess.run(  # noqa: S603
        ["systemd-analyze", "verify", "--man=no", *map(str, rendered)],  # noqa: S607
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (verify.returncode, verify.stderr) == (0, "")
