"""Cases submitted through the JSON API: accepted at once, filed in the background.

Why the zip is opened before answering: a case-handling system may only submit as
itself, so its ``case.json`` is read (through ``intake.receive``, which extracts zips
safely: no path escapes, bounded sizes and entry counts) and a foreign
``source_system`` is refused with 403 before any job exists. Filing then runs as a
Celery task when a broker is configured, else in a small thread pool of this process
(the embedded default); the job row in the catalogue carries the receipt or the check
report to whichever web worker answers the status URL.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dangan.archive import api_tokens
from dangan.archive.instance import Archive
from dangan.packages.errors import DanganError

from .errors import IngestError, UnusableSubmission
from .intake import receive
from .service import _limits, ingest
from .tasks import SUBMIT_TASK, queued

UPLOAD_DIR = "api-uploads"
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dangan-api-filing")


class WrongSourceSystem(IngestError):
    """A system token submitted a case that names another system."""

    code = "api.source_system_mismatch"


def accept(archive: Archive, chunks: Iterable[bytes], *, submitted_by: str,
           system: str | None, max_bytes: int) -> str:
    """Store the uploaded zip, check it opens and who sent it, queue the filing; job id."""
    uploads = archive.home / UPLOAD_DIR
    uploads.mkdir(exist_ok=True)
    tmp = uploads / f".incoming-{uuid.uuid4().hex}.zip"
    try:
        size = 0
        with tmp.open("wb") as f:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise UnusableSubmission(f"提交包超过 {max_bytes // (1 << 20)} MiB 的上限")
                f.write(chunk)
        if size == 0:
            raise UnusableSubmission("没有收到提交包：请以 multipart 字段 case 上传 ZIP 文件")
        staging = archive.store.new_staging()
        try:
            sub = receive(tmp, staging, _limits(archive))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        named = sub.case.get("source_system")
        if system is not None and named != system:
            raise WrongSourceSystem(
                f"令牌属于案件办理系统 {system}，不能以 {named!r} 的名义提交办件")
        job_id = uuid.uuid4().hex
        final = uploads / f"{job_id}.zip"
        tmp.rename(final)
        tmp = final
        api_tokens.create_job(archive.db, submitted_by=submitted_by, upload_path=str(final),
                              job_id=job_id)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _dispatch(archive, job_id, str(final), submitted_by)
    return job_id


def _dispatch(archive: Archive, job_id: str, path: str, actor: str) -> None:
    if queued():
        from .tasks import app

        app.send_task(SUBMIT_TASK, args=[job_id, path, actor, str(archive.home)])
    else:
        _POOL.submit(run_job, archive, job_id, path, actor)


def run_job(archive: Archive, job_id: str, path: str, actor: str) -> dict[str, Any]:
    """File one uploaded case and record the outcome (receipt or check report) on the job."""
    api_tokens.set_job(archive.db, job_id, "running")
    try:
        outcome = ingest(archive, Path(path), actor=actor)
        result: dict[str, Any] = outcome.to_dict()
        state = "done"
    except DanganError as exc:
        result, state = {"status": "error", "error": exc.to_dict()}, "failed"
    except Exception as exc:  # noqa: BLE001 - the job must end, whatever happened
        result = {"status": "error", "error": {"code": "ingest.internal",
                                               "message": f"归档时发生内部错误：{type(exc).__name__}"}}
        state = "failed"
    finally:
        Path(path).unlink(missing_ok=True)
    api_tokens.set_job(archive.db, job_id, state, result)
    return result


def file_submission_task(job_id: str, path: str, actor: str, home: str) -> dict[str, Any]:
    """The Celery task: open the archive on the worker and run the job."""
    archive = Archive.open(home, upgrade=False)
    try:
        return run_job(archive, job_id, path, actor)
    finally:
        archive.close()
