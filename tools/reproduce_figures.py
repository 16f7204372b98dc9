# Copyright (c) OpenMMLab. All rights reserved.
"""Rerun the documented demos and rewrite (or check) their figures.

Every figure in ``README.md``, ``docs/`` and the examples' READMEs that a
demo produces sits between two markers, with the command that produced it
inside::

    <!-- figure: spos-digits table -->
    What `OMP_WAIT_POLICY=PASSIVE python tools/demo.py` printed ...
    <!-- /figure -->

``spos-digits`` names a figure module ``tools/figures/spos_digits.py`` and
``table`` one of its views. A figure module defines:

- ``NAME`` (str) and ``COMMANDS`` (list[str]): the commands as the docs show
  them, run in order from the repository root. Every ``work_dirs/`` in them
  is replaced by a fresh folder, and ``RUN_ARGS`` (str, optional) is
  appended to every command that has no ``--work-dir``, with ``{work_dir}``
  standing for that folder;
- ``collect(work_dir) -> dict``: the figures of the finished run (JSON
  types only); a key ``plots`` (``{name: path}``) names PNG files to keep;
- ``VIEWS`` (``{view: render(report, link) -> str}``): the Markdown of each
  view; ``link(path)`` turns a repository path into a link from the page;
- ``VOLATILE`` (tuple[str]): report keys that change from run to run on the
  same code (wall times, latencies); ``--check`` does not compare them.

The kept report of each figure is ``docs/en/_static/figures/NAME.json``
(its plots: ``NAME_<plot>.png`` beside it) and the docs hold its rendering.
Adding a demo's figure is one new module in ``tools/figures/`` and one
marker pair in the docs.

Usage::

    python tools/reproduce_figures.py [NAME ...]   # rerun, keep, rewrite
    python tools/reproduce_figures.py --check      # rerun, fail on drift
    python tools/reproduce_figures.py --render     # no runs: rewrite docs
                                                   # from the kept reports
    python tools/reproduce_figures.py --list
    python tools/reproduce_figures.py --from-run NAME=DIR   # keep the
        # figures of a run of NAME's commands made by hand into DIR (the
        # folder that stands for work_dirs/)

A rerun takes what the demos take (about 20 minutes in all on 2 CPU
cores). ``--check`` compares every figure except the volatile ones with the
kept report and prints both where they differ; ``--render --check`` only
checks that the docs hold the rendering of the kept reports.
"""
import argparse
import datetime
import difflib
import importlib.util
import json
import os
import os.path as osp
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
FIGURE_DIR = REPO / 'tools' / 'figures'
KEPT_DIR = REPO / 'docs' / 'en' / '_static' / 'figures'
BLOCK = re.compile(
    r'(?P<open><!-- figure: (?P<name>[\w-]+) (?P<view>[\w-]+) -->\n)'
    r'(?P<body>.*?)(?P<close>^<!-- /figure -->)', re.S | re.M)


def load_figures(folder: Path = FIGURE_DIR) -> Dict[str, ModuleType]:
    """The figure modules of ``folder`` by ``NAME``.

    Raises:
        ValueError: If a module lacks a required attribute or two modules
            share a name.
    """
    figures: Dict[str, ModuleType] = {}
    if str(folder) not in sys.path:  # for `import _figure_common`
        sys.path.insert(0, str(folder))
    for path in sorted(folder.glob('[!_]*.py')):
        spec = importlib.util.spec_from_file_location(
            f'mmrazor_figure_{path.stem}', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        missing = [a for a in ('NAME', 'COMMANDS', 'collect', 'VIEWS')
                   if not hasattr(module, a)]
        if missing:
            raise ValueError(f'{path}: a figure module defines NAME, '
                             f'COMMANDS, collect and VIEWS; missing {missing}')
        if module.NAME in figures:
            raise ValueError(f'{path}: figure {module.NAME!r} is defined '
                             'twice')
        figures[module.NAME] = module
    return figures


def doc_pages() -> List[Path]:
    """README.md, every Markdown page of docs/ and the examples' READMEs."""
    return ([REPO / 'README.md'] + sorted((REPO / 'docs').rglob('*.md')) +
            sorted((REPO / 'examples').rglob('README.md')))


def find_blocks(text: str) -> List[re.Match]:
    """The figure blocks of a page's text."""
    return list(BLOCK.finditer(text))


def kept_report_path(name: str) -> Path:
    return KEPT_DIR / f'{name}.json'


def read_kept(name: str) -> Dict[str, Any]:
    """The kept report of figure ``name``.

    Raises:
        FileNotFoundError: Naming the command that writes it.
    """
    path = kept_report_path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f'No kept report {path.relative_to(REPO)} for figure {name!r}; '
            f'write it with: python tools/reproduce_figures.py {name}')
    with open(path) as f:
        return json.load(f)


def linker(page: Path) -> Callable[[str], str]:
    """``link(repo_path)``: the path relative to ``page``'s folder."""

    def link(path: str) -> str:
        return Path(os.path.relpath(REPO / path, page.parent)).as_posix()

    return link


def render_page(text: str,
                page: Path,
                figures: Dict[str, ModuleType],
                reports: Dict[str, Dict[str, Any]],
                keep_unreported: bool = False) -> str:
    """``text`` with every figure block rendered from ``reports`` (or
    the kept reports).

    Args:
        keep_unreported: Leave the blocks of a figure without a kept
            report as they are (with a note) instead of failing.

    Raises:
        KeyError: For a block of an unknown figure or view.
        FileNotFoundError: For a figure without a kept report, unless
            ``keep_unreported``.
    """

    def body(match: re.Match) -> str:
        name, view = match['name'], match['view']
        if name not in figures:
            raise KeyError(f'{page.relative_to(REPO)}: no figure module '
                           f'defines {name!r}; known: {sorted(figures)}')
        views = figures[name].VIEWS
        if view not in views:
            raise KeyError(f'{page.relative_to(REPO)}: figure {name!r} has '
                           f'no view {view!r}; known: {sorted(views)}')
        if name not in reports:
            if keep_unreported and not kept_report_path(name).is_file():
                print(f'{page.relative_to(REPO)}: figure {name!r} has no '
                      'kept report yet; its block is left as it is')
                return match[0]
            reports[name] = read_kept(name)
        rendered = views[view](reports[name], linker(page)).rstrip('\n')
        return f'{match["open"]}{rendered}\n{match["close"]}'

    return BLOCK.sub(body, text)


def drift(figure: ModuleType, kept: Dict[str, Any],
          new: Dict[str, Any]) -> List[str]:
    """Unified diffs of each view: ``new`` against ``kept``, with the
    volatile keys, the run conditions and the plots' paths taken from
    ``kept`` (a new plot lies in the run folder until it is kept).

    Returns:
        One diff per view that differs; empty if none does.
    """
    volatile = set(getattr(figure, 'VOLATILE', ())) | {'conditions', 'plots'}
    merged = {k: (kept[k] if k in volatile and k in kept else v)
              for k, v in new.items()}
    diffs = []
    link = linker(REPO / 'README.md')
    for view, render in figure.VIEWS.items():
        before = render(kept, link) + '\n'
        after = render(merged, link) + '\n'
        if before != after:
            diffs.append(''.join(difflib.unified_diff(
                before.splitlines(True), after.splitlines(True),
                f'{figure.NAME} {view} (kept)',
                f'{figure.NAME} {view} (now)')))
    return diffs


def run_commands(figure: ModuleType, work_dir: Path,
                 log: Path) -> List[float]:
    """Run the figure's commands into ``work_dir``; return their wall times.

    Raises:
        RuntimeError: With the end of the log, if a command fails.
    """
    times = []
    extra = getattr(figure, 'RUN_ARGS', '')
    for shown in figure.COMMANDS:
        command = shown.replace('work_dirs/', f'{work_dir}/')
        if extra and '--work-dir' not in command:
            command += ' ' + extra.format(work_dir=shlex.quote(str(work_dir)))
        command = re.sub(r'(^|\s)python\s', rf'\g<1>{sys.executable} ',
                         command, count=1)
        print(f'[{figure.NAME}] {command}', flush=True)
        start = time.perf_counter()
        with open(log, 'a') as out:
            out.write(f'$ {command}\n')
            out.flush()
            proc = subprocess.run(command, shell=True, cwd=REPO,
                                  stdout=out, stderr=subprocess.STDOUT)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            tail = log.read_text().splitlines()[-30:]
            raise RuntimeError(
                f'[{figure.NAME}] exited with {proc.returncode}: {shown}\n'
                + '\n'.join(tail) + f'\n(whole log: {log})')
    return times


def conditions(load_before: Optional[Tuple[float, ...]],
               times: Optional[List[float]]) -> Dict[str, Any]:
    """When and where a run happened: date, CPU, load, command times
    (``None`` where unknown: a run made by hand)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            names = [ln.split(':', 1)[1].strip() for ln in f
                     if ln.startswith('model name')]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return dict(
        date=datetime.date.today().isoformat(),
        cpu=cpu,
        cores=os.cpu_count(),
        load_before=None if load_before is None else round(
            load_before[0], 2),
        load_after=None if load_before is None else round(
            os.getloadavg()[0], 2),
        command_times_s=None if times is None else [round(t, 1)
                                                    for t in times])


def keep(figure: ModuleType, report: Dict[str, Any]) -> Dict[str, Any]:
    """Copy the report's plots next to the kept report and write it."""
    KEPT_DIR.mkdir(parents=True, exist_ok=True)
    plots = report.pop('plots', None) or {}
    kept_plots = {}
    for plot, path in plots.items():
        target = KEPT_DIR / f'{figure.NAME}_{plot}.png'
        shutil.copyfile(path, target)
        kept_plots[plot] = str(target.relative_to(REPO))
    if kept_plots:
        report['plots'] = kept_plots
    path = kept_report_path(figure.NAME)
    tmp = path.with_suffix('.json.tmp')
    tmp.write_text(json.dumps(report, indent=1, sort_keys=True) + '\n')
    os.replace(tmp, path)
    return report


def rewrite_docs(figures: Dict[str, ModuleType],
                 reports: Dict[str, Dict[str, Any]],
                 check: bool) -> List[str]:
    """Render every page; write changed pages, or with ``check`` return
    the pages that would change."""
    stale = []
    for page in doc_pages():
        text = page.read_text()
        if not find_blocks(text):
            continue
        new = render_page(text, page, figures, reports,
                          keep_unreported=not check)
        if new == text:
            continue
        stale.append(str(page.relative_to(REPO)))
        if not check:
            tmp = page.with_suffix('.md.tmp')
            tmp.write_text(new)
            os.replace(tmp, page)
            print(f'rewrote {page.relative_to(REPO)}')
    return stale


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Rerun the documented demos and rewrite (or check) '
        'their figures in README.md, docs/ and examples/.')
    parser.add_argument('names', nargs='*',
                        help='figures to rerun (default: all)')
    parser.add_argument('--check', action='store_true',
                        help='write nothing; fail if a rerun (or, with '
                        '--render, the docs) differs from the kept report')
    parser.add_argument('--render', action='store_true',
                        help='run nothing: render the docs from the kept '
                        'reports')
    parser.add_argument('--list', action='store_true',
                        help='list the figures, their commands and pages')
    parser.add_argument('--work-root', default='work_dirs/reproduce_figures',
                        help='parent of the fresh run folders')
    parser.add_argument('--from-run', action='append', default=[],
                        metavar='NAME=DIR',
                        help='run nothing for NAME: keep the figures of a '
                        'finished run of its commands into DIR (which '
                        'stood for work_dirs/); repeatable')
    args = parser.parse_args(argv)
    runs = {}
    for item in args.from_run:
        name, sep, folder = item.partition('=')
        if not sep or not osp.isdir(folder):
            parser.error(f'--from-run expects NAME=DIR with an existing '
                         f'DIR, got {item!r}')
        runs[name] = folder
    args.from_run = runs
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    # Before the figure modules load mmengine or mmcls: mmrazor filters
    # their import-time warnings.
    import mmrazor  # noqa: F401
    figures = load_figures()
    unknown = sorted((set(args.names) | set(args.from_run)) - set(figures))
    if unknown:
        sys.exit(f'error: unknown figure(s) {unknown}; known: '
                 f'{sorted(figures)}')
    names = args.names or sorted(figures)
    if args.list:
        for name in names:
            pages = [str(p.relative_to(REPO)) for p in doc_pages()
                     if f'<!-- figure: {name} ' in p.read_text()]
            print(f'{name}: {", ".join(pages) or "(on no page)"}')
            for command in figures[name].COMMANDS:
                print(f'    {command}')
        return 0

    reports: Dict[str, Dict[str, Any]] = {}
    failed = []
    for name, folder in args.from_run.items():
        report = figures[name].collect(osp.abspath(folder))
        report['conditions'] = conditions(None, None)
        reports[name] = keep(figures[name], report)
        names = [n for n in names if n != name]
    if not args.render and not (args.from_run and not args.names):
        stamp = time.strftime('%Y%m%d_%H%M%S')
        for name in names:
            figure = figures[name]
            work_dir = (REPO / args.work_root / stamp / name).resolve()
            work_dir.mkdir(parents=True)
            load = os.getloadavg()
            times = run_commands(figure, work_dir, work_dir / 'commands.log')
            report = figure.collect(str(work_dir))
            report['conditions'] = conditions(load, times)
            if args.check:
                diffs = drift(figure, read_kept(name), report)
                if diffs:
                    failed.append(name)
                    print('\n'.join(diffs))
                else:
                    print(f'[{name}] reproduces the kept figures')
            else:
                reports[name] = keep(figure, report)
    stale = rewrite_docs(figures, reports, check=args.check)
    if args.check and stale:
        print('The docs do not hold the rendering of the kept reports: '
              f'{stale}; run python tools/reproduce_figures.py --render')
    if failed:
        print(f'Figures that drifted from the kept reports: {failed}. '
              'If the change is intended, rerun without --check to keep '
              'the new figures.')
    return 1 if failed or (args.check and stale) else 0


if __name__ == '__main__':
    sys.exit(main())
