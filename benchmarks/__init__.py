"""Speed and scale benchmarks of irrigation (issue 10); run ``python -m benchmarks``.

Each module measures our code and a peer on the same work and has
``run(size) -> list[Result]``; :mod:`benchmarks.harness` runs them in fresh processes and
writes ``benchmarks.md`` and ``benchmarks.json``.
"""

from .common import Result as Result
