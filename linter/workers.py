"""Worker processes that serve one run: the profile scan (project.collect), then the lint pass
(engine.stream_files), forked once, so a file the scan parsed is linted by the worker that keeps
its parse (sources.SHARED) and is parsed once per run.

The scan hands a project's profile candidates out in chunks to whichever worker is free; each
worker keeps the parses of the files the lint pass will read (within SHARED's budget: each worker
has the whole of it, ~17 MB at most, as parsing a file twice costs more than that memory saves)
and sends back their facts, which the parent folds in file order as one process would, and which
parses it kept (and let go). The lint pass then hands out files in order, a batch at a time to whichever worker
is free, except that a file whose parse a worker keeps goes to that worker.

A worker forked before the run's routes exist (for the scan) builds them with `factory`, inherited
when it forked, from what the parent found (`given`: the profiles and each file's project, small
and picklable, where a route holds Linter objects and closures that are not). A worker forked by
the lint pass inherits its route. Fork only: where it is missing, nothing here is used and the
caller works in one process. A worker that raises ends the run with its exception, one that dies
with BrokenProcessPool, as concurrent.futures did."""
from __future__ import annotations

import gc
import threading
import traceback
from array import array
from collections import deque
from pathlib import Path
from typing import Callable, Iterator, Sequence

BATCH = 16  # files per message of the lint pass
SCAN_CHUNK = 32  # files per message of the profile scan, at least
IN_FLIGHT = 2  # batches a worker holds at once (the next is there when one is done)
_ABRUPT = "A process in the process pool was terminated abruptly while the future was running or pending."
# What a worker forked by the lint pass itself inherits: (route, fix, unsafe, ignore_reason, shows).
_INHERITED: tuple | None = None


def fork_context():
    """The fork context, or None where the platform has none."""
    import multiprocessing

    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


class Workers:
    """`jobs` worker processes, forked on first use and ended by `close` (see the module's note)."""

    def __init__(self, jobs: int, factory: Callable | None = None, lintable: Sequence[Path | str] | None = None) -> None:
        self.jobs = jobs
        self.factory = factory  # given -> Route, called in a worker forked before the routes existed
        self.given: object = None  # what factory builds the routes from (set by the owner before linting)
        self._lintable = lintable  # the files the lint pass reads: the scan keeps their parses only
        self._lint_reals: _Hashes | None = None  # their real paths' hashes, sorted (for the workers)
        self._lint_hashes: array | None = None  # the same, in the files' order (for map)
        self._conns: list = []
        self._procs: list = []
        self._holder: dict[int, int] = {}  # a real path's hash -> the worker keeping its parse
        self._routed = False
        self._scans = 0  # profile scans so far (a worker's own evidence is of one project)
        self.closed = False

    @property
    def started(self) -> bool:
        return bool(self._procs)

    def _start(self) -> None:
        context = fork_context()
        if context is None:
            raise RuntimeError("no fork on this platform")  # (callers check fork_context first)
        if self._lintable is not None and _INHERITED is None:  # (workers forked to lint scan nothing)
            self._lint_hashes = _real_hashes(self._lintable)
            self._lint_reals = _Hashes(self._lint_hashes)
        for index in range(self.jobs):
            mine, theirs = context.Pipe()
            self._conns.append(mine)  # (before the fork: the worker closes it, see _serve)
            process = context.Process(target=_serve, args=(theirs, self), daemon=True)
            process.start()
            theirs.close()
            self._procs.append(process)
        self._lint_reals = None  # (the workers have theirs)

    def _receive(self, index: int):
        try:
            status, body = self._conns[index].recv()
        except (EOFError, OSError):
            from concurrent.futures.process import BrokenProcessPool  # (imported when needed: a warm run forks none)

            raise BrokenProcessPool(_ABRUPT) from None
        if status == "error":
            raise body
        return body

    def _dispatch(self, batch_for: Callable[[int], "tuple[object, tuple] | None"],
                  done: Callable[[int, object, object], None], stopping: Callable[[], bool] = lambda: False) -> None:
        """Keep every worker IN_FLIGHT messages ahead until there is no more work:
        `batch_for(worker)` gives (key, message) or None, `done(worker, key, reply)` takes each
        reply (a worker answers its messages in turn).

        Each worker's messages are written by a thread of its own: a worker writing a reply larger
        than the pipe holds waits for it to be read, and a write to that worker (its next message
        queued behind the one it works on) may wait for the worker to read: written here, the two
        would wait for each other (it happened with the 100k-file corpus's scan chunks); written by
        one thread for all, a worker would wait for its next message behind a write to another."""
        import queue
        from multiprocessing.connection import wait

        sent: list[deque] = [deque() for _ in range(self.jobs)]
        outboxes: list[queue.SimpleQueue] = [queue.SimpleQueue() for _ in range(self.jobs)]

        def write(index: int) -> None:
            while (message := outboxes[index].get()) is not None:
                try:
                    self._conns[index].send(message)
                except (OSError, ValueError):
                    return  # a worker that died: its reader gets EOF (BrokenProcessPool)

        for index in range(self.jobs):
            threading.Thread(target=write, args=(index,), daemon=True).start()

        def send(index: int) -> None:
            item = batch_for(index)
            if item is not None:
                outboxes[index].put(item[1])
                sent[index].append(item[0])

        try:
            for index in range(self.jobs):
                for _ in range(IN_FLIGHT):
                    send(index)
            while any(sent) and not stopping():
                for conn in wait([self._conns[i] for i in range(self.jobs) if sent[i]]):
                    index = self._conns.index(conn)
                    done(index, sent[index].popleft(), self._receive(index))
                    send(index)
        finally:
            for outbox in outboxes:
                outbox.put(None)  # (a writer has written everything once its messages are answered)

    # --- the profile scan ---------------------------------------------------------------
    def shares(self, files: Sequence[Path | str]) -> list:
        """The files' shares of their project's facts (project._share_of), each chunk's folded
        into one (None: it adds nothing), in file order: folded in turn, they give what the files'
        shares give (merge is associative). The chunks go out to whichever worker is free."""
        if not self.started:
            self._start()
        self._scans += 1
        chunks: deque[tuple[int, int]] = deque()
        at = 0
        while at < len(files):  # each a share of what is left: the last are small, and end together
            size = max(SCAN_CHUNK, (len(files) - at) // (self.jobs * 4))
            chunks.append((at, at + size))
            at += size
        out: list = [None] * len(chunks)

        def batch_for(_index: int):
            if not chunks:
                return None
            number = len(out) - len(chunks)
            start, end = chunks.popleft()
            return number, ("scan", (self._scans, files[start:end]))

        def done(index: int, number, reply) -> None:
            out[number], kept, dropped = reply
            for real in dropped:  # (each a real path's hash)
                if self._holder.get(real) == index:
                    del self._holder[real]
            for real in kept:
                self._holder[real] = index

        self._dispatch(batch_for, done)
        return out

    # --- the lint pass ------------------------------------------------------------------
    def map(self, paths: Sequence[Path | str], route, fix: bool, unsafe: bool, ignore_reason: str | None,
            shows: frozenset[str] | None = None) -> Iterator:
        """Each path's FileResult (engine._here's: with no text when the report reads none of it
        or its findings keep what it reads, see FileResult.drop_source), in order. Workers forked
        now inherit `route`; workers forked for the scan build it from `given`."""
        global _INHERITED
        if self.started and not self._routed and (self.factory is None or self.given is None):
            self.close()  # forked for a scan alone: workers forked now inherit the route
            self._conns, self._procs, self._holder, self.closed = [], [], {}, False
        if not self.started:
            _INHERITED = (route, fix, unsafe, ignore_reason, shows)
            try:
                self._start()
            finally:
                _INHERITED = None
        elif not self._routed:
            from multiprocessing.reduction import ForkingPickler

            message = ForkingPickler.dumps(("route", (self.given, fix, unsafe, ignore_reason, shows)))  # (pickled once)
            for conn in self._conns:
                conn.send_bytes(message)
            for index in range(self.jobs):
                self._receive(index)
        self._routed = True
        held: list[deque[int]] = [deque() for _ in range(self.jobs)]
        common: deque[int] = deque()
        if self._holder:
            # (the lint pass of the files the scan was told of: their hashes were taken before the fork)
            hashes = self._lint_hashes if paths is self._lintable and self._lint_hashes is not None \
                else _real_hashes(paths)
            for number, hashed in enumerate(hashes):
                holder = self._holder.pop(hashed, None)
                (held[holder] if holder is not None else common).append(number)
            self._lint_hashes = None
        else:
            common.extend(range(len(paths)))
        feeder = _Feeder(self, paths, held, common)
        feeder.start()
        try:
            for number in range(len(paths)):
                yield feeder.result(number)
        finally:
            feeder.stopping = True

    def close(self, wait: bool = True) -> None:
        """End the workers: after their work (wait), or at once (an error, an interruption)."""
        if self.closed:
            return
        self.closed = True
        for conn in self._conns:
            try:
                if wait:
                    conn.send(("stop", None))
            except OSError:
                pass
        for process in self._procs:
            if wait:
                process.join(10)
            if process.is_alive():
                process.terminate()
                process.join()
        for conn in self._conns:
            conn.close()


def _real_hashes(paths: Sequence[Path | str]) -> array:
    """The hashes of the files' real paths, in their order (the workers' own string hashes: they
    fork from the process that takes them): 8 bytes a file."""
    from v6lint.discovery import real_path

    dirs: dict[str, str] = {}
    return array("q", (hash(real_path(path, dirs)) for path in paths))


class _Hashes:
    """Hashes of files' real paths (_real_hashes) as a sorted array, which every worker inherits."""

    def __init__(self, hashes: array) -> None:
        self.hashes = array("q", sorted(hashes))

    def __contains__(self, value: int) -> bool:
        from bisect import bisect_left

        at = bisect_left(self.hashes, value)
        return at < len(self.hashes) and self.hashes[at] == value


class _Feeder(threading.Thread):
    """The lint pass's batches handed out and their results taken beside the reader of the
    results (which writes the report and runs the builds meanwhile): the workers never wait for it.
    A batch is up to BATCH files in order, of the worker's kept parses and the files no worker keeps."""

    def __init__(self, workers: Workers, paths: Sequence[Path | str], held: list[deque[int]], common: deque[int]) -> None:
        super().__init__(daemon=True)
        self.workers, self.paths, self.held, self.common = workers, paths, held, common
        self.results: dict[int, object] = {}
        self.failure: BaseException | None = None
        self.ready = threading.Condition()
        self.stopping = False

    def _batch_for(self, index: int):
        mine, common = self.held[index], self.common
        batch: list[int] = []
        while len(batch) < BATCH and (mine or common):
            batch.append(mine.popleft() if mine and (not common or mine[0] < common[0]) else common.popleft())
        return (batch, ("lint", [self.paths[n] for n in batch])) if batch else None

    def _done(self, _index: int, batch, results) -> None:
        with self.ready:
            self.results.update(zip(batch, results))
            self.ready.notify_all()

    def run(self) -> None:
        try:
            self.workers._dispatch(self._batch_for, self._done, lambda: self.stopping)
        except BaseException as exc:  # given to the reader of the results
            with self.ready:
                self.failure = exc
                self.ready.notify_all()

    def result(self, number: int):
        with self.ready:
            while number not in self.results:
                if self.failure is not None:
                    raise self.failure
                self.ready.wait()
            return self.results.pop(number)


# --- in a worker ----------------------------------------------------------------------------
def _serve(conn, workers: Workers) -> None:
    """A worker's loop: a message, its reply, until "stop" or the parent is gone.

    The cyclic garbage collector leaves alone what the worker holds for the whole run (gc.freeze):
    what it inherited from its parent, and the parses the profile scan keeps for the lint pass
    (until their file is linted; each collection walked all of them: ~4% of a 10k-file run). A
    kept document whose views (cycles) were built is then freed when the worker ends: memory stays
    within the budget of SHARED (one let go in the scan loses its views, see ParseShare.offer).
    Before each freeze only the young generations are collected (gc.collect(1)): the scan frees
    its garbage by reference counting (no cycle was found at 10k bench files, ../shared/corpus or
    the realistic corpus), and a full collection walked every parse the chunk kept, to find
    nothing (~0.04 s a worker at 10k files). What a cycle leaves in the young generations is
    still collected, not frozen; only one that outlived two collections while the chunk ran
    could be (the automatic collections go on during the scan).

    Ctrl-C (SIGINT to the whole process group) is the parent's to act on: it ends the workers
    (close). A worker that ended on it first would be a worker gone, BrokenProcessPool, to a
    parent that had not yet run its own handler: an internal error instead of an interruption."""
    import signal

    from v6lint.engine import _here

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for other in workers._conns:  # the parent's ends (its own: else the parent's death is no EOF here)
        other.close()
    gc.freeze()
    route = None
    reply: object = None
    seen, evidence = 0, None  # the profile scan in progress, and this worker's evidence of it
    task = _INHERITED
    if task is not None:
        route = task[0]
    while True:
        try:
            kind, body = conn.recv()
            if kind == "stop":
                return
            if kind == "scan":
                scan, files = body
                if scan != seen:
                    seen, evidence = scan, None
                reply, evidence = _scan(files, workers._lint_reals, evidence)
                gc.collect(1)  # (the scan's young garbage: see _serve)
                gc.freeze()  # the kept parses: see _serve
            elif kind == "route":
                given, *rest = body
                route = workers.factory(given) if workers.factory is not None else None
                task, reply = (route, *rest), None
            else:
                assert task is not None and route is not None
                reply = [_here(route, path, *task[1:]) for path in body]
            conn.send(("ok", reply))
        except (EOFError, OSError, KeyboardInterrupt, SystemExit):
            return  # the parent is gone, or the run interrupted (the parent reports it)
        except BaseException as exc:
            try:
                conn.send(("error", _sendable(exc)))
            except Exception:
                return


def _sendable(exc: BaseException) -> BaseException:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}\n{''.join(traceback.format_exception(exc))}")


def _scan(files: list[Path | str], lint_reals: _Hashes | None,
          evidence) -> tuple[tuple[object, list[int], list[int]], object]:
    """The files' shares folded into one (None when they add nothing), the hashes of the real paths
    of the parses kept for the lint pass and of those let go (to keep others: see sources.ParseShare),
    and this worker's evidence of the project so far (see nothing_to_add: exact with any subset
    of the files)."""
    from v6lint.project import _Collector, _share_of
    from v6lint.sources import SHARED

    if evidence is None:
        evidence = _Collector()
    before = set(SHARED.kept)
    dirs: dict[str, str] = {}
    folded = None
    for path in files:
        part = _share_of(path, dirs, evidence, lint_reals or ())
        if part is not None:
            if folded is None:
                folded = _Collector()
            folded.merge(part)
    kept = [hash(real) for real in SHARED.kept if real not in before]
    return (folded, kept, [hash(real) for real in before if real not in SHARED.kept]), evidence

