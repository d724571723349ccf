"""Documents drawn with matplotlib (a review's PDF, a review's HTML page with its charts, a printed
map sheet) are drawn in a short-lived child process, so a request worker never imports matplotlib
nor fontTools (issue 18: matplotlib, its PDF backend's fontTools, their font caches and figures are
~50-60 MB that stayed in a worker for good once it had made one document).

`draw(target, store, layers, *args)` runs `target(snapshot, *args)` in the child: `target` is a
module-level function named "module:function" (so the worker need not import its module), and its
first argument is a picklable snapshot of the few layers of `store` it draws (the store itself
cannot be pickled: locks, caches, connections). The child is one process per worker
(`ProcessPoolExecutor(max_workers=1)`, spawned: the worker has threads), started on first use, shut
down after `idle_seconds` without a document, and replaced once when it died. An exception raised
in the child is raised here as the same type with the same message (an `InvalidParameter` stays a
400), with the child's traceback as its cause.

GEOBORDER_DOCUMENT_PROCESS=0 draws in the calling process instead (debugging; a one-shot CLI may
too); GEOBORDER_DOCUMENT_IDLE_SECONDS (default 60) is how long an idle child is kept. Both are read
once, when the first document is drawn, or set with `configure`.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import pickle
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from geoborder.reports.snapshot import snapshot


class DocumentSettings(BaseSettings):
    """Where documents are drawn (GEOBORDER_DOCUMENT_*)."""

    model_config = SettingsConfigDict(env_prefix="GEOBORDER_DOCUMENT_", extra="ignore")

    # draw in a child process (default); 0: in the worker itself, which then imports matplotlib
    process: bool = True
    # seconds an idle child is kept before it is shut down (its memory given back)
    idle_seconds: float = Field(default=60.0, gt=0)


_settings: DocumentSettings | None = None


def settings() -> DocumentSettings:
    global _settings
    if _settings is None:
        _settings = DocumentSettings()
    return _settings


def configure(*, process: bool | None = None, idle_seconds: float | None = None) -> DocumentSettings:
    """Set where documents are drawn (None: keep the current value); returns the settings."""
    global _settings
    current = settings()
    _settings = DocumentSettings(
        process=current.process if process is None else process,
        idle_seconds=current.idle_seconds if idle_seconds is None else idle_seconds,
    )
    return _settings


def draw(target: str, store, layers: Mapping[str, Callable | None], *args, **kwargs) -> Any:
    """`target(store, *args, **kwargs)` (target: "module:function"), in the child process with a
    snapshot of `layers` of `store` (layer id -> None for the whole frame, or a function of the
    frame giving the rows drawn), or here with the store itself when the child process is off."""
    if not settings().process or not _spawnable():
        return _resolve(target)(store, *args, **kwargs)
    return call(target, snapshot(store, layers), *args, **kwargs)


def _spawnable() -> bool:
    """Whether a spawned child can start here: it runs the main module again, so a main module
    named after a file that is not there (a script read from standard input, `python - <<EOF`)
    would make every child die at start. Then documents are drawn in this process."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or os.path.exists(path)


def call(target: str, *args, **kwargs) -> Any:
    """`target(*args, **kwargs)` in the child process: its result, or its exception raised here."""
    return _CHILD.call(target, args, kwargs, settings().idle_seconds)


def shutdown() -> None:
    """Stop the child process now, if there is one (the next document starts another)."""
    _CHILD.shutdown()


# --------------------------------------------------------------------------- the child process


def _resolve(target: str) -> Callable:
    module, _, name = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


class ChildTraceback(Exception):
    """The traceback of an exception raised in the document process (the cause of the one raised
    here)."""

    def __str__(self) -> str:
        return "\n" + str(self.args[0]) if self.args else ""


@dataclass
class _Failure:
    """An exception of the child, sent back as data: its type by name, args and attributes (an
    exception class whose __init__ takes other arguments than its args still comes back whole)."""

    module: str
    qualname: str
    args: tuple
    state: dict
    message: str
    traceback: str

    @classmethod
    def of(cls, exc: BaseException) -> _Failure:
        args, state = exc.args, dict(getattr(exc, "__dict__", {}))
        try:
            pickle.dumps(args)
        except Exception:
            args = (str(exc),)
        try:
            pickle.dumps(state)
        except Exception:
            state = {}
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return cls(type(exc).__module__, type(exc).__qualname__, args, state, str(exc), tb)

    def exception(self) -> BaseException:
        """The same exception here. Its class is taken from a module this process has imported
        already (never importing matplotlib for one of its errors); else a RuntimeError naming it."""
        exc: BaseException
        try:
            cls: Any = sys.modules[self.module]
            for part in self.qualname.split("."):
                cls = getattr(cls, part)
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                raise TypeError(self.qualname)
            exc = cls.__new__(cls)
            exc.args = self.args
            exc.__dict__.update(self.state)
        except Exception:
            exc = RuntimeError(f"{self.module}.{self.qualname}: {self.message}")
        exc.__cause__ = ChildTraceback(self.traceback)
        return exc


def _run(target: str, args: tuple, kwargs: dict) -> tuple[bool, Any]:
    """In the child: (True, the result) or (False, the exception as a _Failure)."""
    try:
        return True, _resolve(target)(*args, **kwargs)
    except Exception as exc:
        return False, _Failure.of(exc)


def _watch_parent(parent: int, every: float = 1.0) -> None:
    """In the child: exit when the worker that started it is gone. A worker killed (SIGKILL, or a
    test process ending without shutting the pool down) left its child waiting on a queue whose
    other end the child holds too, for good (an orphan of ~270 MB was seen)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)

    threading.Thread(target=watch, name="geoborder-parent-watch", daemon=True).start()


class _Child:
    """The worker's one document process: started on first use, shut down when idle, replaced
    once when it died (BrokenProcessPool)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0
        self._timer: threading.Timer | None = None

    def call(self, target: str, args: tuple, kwargs: dict, idle_seconds: float) -> Any:
        for attempt in (1, 2):
            pool = self._acquire()
            try:
                ok, value = pool.submit(_run, target, args, kwargs).result()
                break
            except BrokenProcessPool:  # the child died (killed, out of memory): once more, in a new one
                self._discard(pool)
                if attempt == 2:
                    raise
            finally:
                self._release(idle_seconds)
        if not ok:
            raise value.exception()
        return value

    def _acquire(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_watch_parent,
                    initargs=(os.getpid(),),
                )
            self._busy += 1
            return self._pool

    def _release(self, idle_seconds: float) -> None:
        with self._lock:
            self._busy -= 1
            if self._busy == 0 and self._pool is not None:
                self._timer = threading.Timer(idle_seconds, self._idle, args=(self._pool,))
                self._timer.daemon = True
                self._timer.start()

    def _idle(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._busy or self._pool is not pool:
                return
            self._pool, self._timer = None, None
        pool.shutdown(wait=True)

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if pool is not None:
            pool.shutdown(wait=True)

    @property
    def running(self) -> bool:
        return self._pool is not None


_CHILD = _Child()


def running() -> bool:
    """Whether this process has a document process now."""
    return _CHILD.running
