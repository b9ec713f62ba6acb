"""The local cloud unpacks each archive a worker starts from once; later workers link to that copy.

ministack 1.5.33 writes a function's package and every layer into each new worker's folder and unpacks
them there, in its one process: 0.6-0.8 s of its CPU for the dependencies layer, every worker. The
launcher's mend keys each archive by its SHA-256, unpacks it once, and makes the worker's folder a link.
"""

from __future__ import annotations

import json
import subprocess
import threading
import zipfile
from pathlib import Path

from tools.dev.localcloud_server import UnpackOnce

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venvs" / "ministack" / "bin" / "python"


def _archive(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_an_archive_is_unpacked_once_and_every_folder_after_links_to_that_copy(tmp_path: Path) -> None:
    unpack = UnpackOnce(tmp_path / "cache")
    layer = _archive(tmp_path / "layer.zip", {"python/lib.py": "VALUE = 1\n"})
    first, second = tmp_path / "worker-1" / "layer_0", tmp_path / "worker-2" / "layer_0"

    for folder in (first, second):
        folder.mkdir(parents=True)  # as ministack makes it, empty, before it unpacks
        with unpack.ZipFile(layer) as archive:
            names = archive.namelist()
            archive.extractall(folder)
        if folder == first:
            assert names == ["python/lib.py"]  # the first time, ministack checks every member's path
        else:
            assert names == []  # checked when it was unpacked; nothing is read from the zip again

    assert first.is_symlink() and second.is_symlink()
    assert first.resolve() == second.resolve()
    assert (second / "python" / "lib.py").read_text() == "VALUE = 1\n"
    assert [entry.name for entry in (tmp_path / "cache").iterdir()] == [first.resolve().name]


def test_archives_of_other_contents_get_copies_of_their_own(tmp_path: Path) -> None:
    unpack = UnpackOnce(tmp_path / "cache")
    old = _archive(tmp_path / "old.zip", {"python/lib.py": "VALUE = 1\n"})
    new = _archive(tmp_path / "new.zip", {"python/lib.py": "VALUE = 2\n"})
    folders = {}
    for name, path in [("old", old), ("new", new)]:
        folders[name] = tmp_path / name
        folders[name].mkdir()
        with unpack.ZipFile(path) as archive:
            archive.extractall(folders[name])

    assert (folders["old"] / "python" / "lib.py").read_text() == "VALUE = 1\n"
    assert (folders["new"] / "python" / "lib.py").read_text() == "VALUE = 2\n"
    assert folders["old"].resolve() != folders["new"].resolve()


def test_workers_started_at_once_share_one_complete_copy(tmp_path: Path) -> None:
    unpack = UnpackOnce(tmp_path / "cache")
    layer = _archive(tmp_path / "layer.zip", {f"python/m{n}.py": f"N = {n}\n" for n in range(200)})
    folders = [tmp_path / f"worker-{n}" for n in range(8)]
    for folder in folders:
        folder.mkdir()

    def start(folder: Path) -> None:
        with unpack.ZipFile(layer) as archive:
            archive.extractall(folder)

    threads = [threading.Thread(target=start, args=(folder,)) for folder in folders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({folder.resolve() for folder in folders}) == 1
    assert all(len(list((folder / "python").iterdir())) == 200 for folder in folders)
    assert [entry.name for entry in (tmp_path / "cache").iterdir() if entry.name.startswith(".")] == []


DRIVER = r"""
import io, json, os, sys, tempfile, zipfile
from pathlib import Path
from tools.dev.localcloud_server import mend_unpacking
cache = Path(sys.argv[1])
mend_unpacking(cache)
from ministack.core.lambda_runtime import Worker
from ministack.services import lambda_svc

def archive(files):
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return data.getvalue()

# One archive, as the local cloud stores a layer version's (built again, it would carry another time).
layer = archive({"python/from_layer.py": "WHERE = 'the layer'\n"})
lambda_svc._resolve_layer_zip = lambda ref: layer
package = archive({"handler.py": "import from_layer\ndef handler(event, context):\n    return from_layer.WHERE\n"})
config = {
    "Runtime": "python3.13",
    "Handler": "handler.handler",
    "Timeout": 10,
    "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:unpack-probe",
    "Layers": ["arn:aws:lambda:us-east-1:000000000000:layer:probe:1"],
}
workers = [Worker("unpack-probe", config, package) for _ in range(2)]
try:
    answers = [worker.invoke({}, f"request-{n}").get("result") for n, worker in enumerate(workers)]
    print(json.dumps({"answers": answers, "unpacked": sorted(p.name for p in cache.iterdir())}))
finally:
    for worker in workers:
        worker.kill()
"""


def test_real_workers_run_from_the_one_unpacked_package_and_layer(tmp_path: Path) -> None:
    cache = tmp_path / "unpacked"
    command = [str(PYTHON), "-c", DRIVER, str(cache)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["answers"] == ["the layer", "the layer"]
    assert len(found["unpacked"]) == 2  # the package and the layer, once each for two workers


def test_what_the_mend_does_not_stand_for_is_zipfile_s_own(tmp_path: Path) -> None:
    unpack = UnpackOnce(tmp_path / "cache")
    assert unpack.ZIP_DEFLATED == zipfile.ZIP_DEFLATED
    assert unpack.BadZipFile is zipfile.BadZipFile
    assert unpack.LargeFileError is zipfile.LargeZipFile  # the name ministack's except clause uses
