# Copyright (c) OpenMMLab. All rights reserved.
"""The documentation says what the code does.

- Every Python block marked ``<!-- doc-test: run -->`` runs. The blocks of a
  page run in order in one namespace (a reader runs them one after the
  other); a block marked ``<!-- doc-test: file PATH -->`` is written to
  ``PATH`` (relative to the working directory) at its place in that order,
  as a reader saves a file the page shows whole. Each page runs in a fresh
  namespace and default scope, all in a fresh
  process whose working directory holds links to ``configs/`` and
  ``examples/``; what the snippets write stays in a temporary folder. A line
  ``print(x)  # text`` checks that ``x`` prints as ``text``, unless the text
  starts with ``e.g.``.
- Every block marked ``<!-- doc-test: excerpt PATH -->`` is a true excerpt:
  its lines, except ``...``, appear in that order in ``PATH``.
- Links, file paths, version pins and error messages quoted in the docs
  exist or match.
"""
import json
import re
import textwrap
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from mmrazor import _dependency as dependency

from .conftest import RESULT_MARK, ROOT
from .test_custom_imports import CLASSIFIER_CFG, SEARCH_SPACE

DOCS = ROOT / 'docs' / 'en'
PAGES = sorted(DOCS.rglob('*.md'))
READMES = sorted((ROOT / 'examples').rglob('README.md'))
MARKED_BLOCK = re.compile(
    r'<!-- doc-test: (?P<kind>run|(?:excerpt|file) (?P<path>\S+)) -->\n'
    r'```python\n(?P<code>.*?)^```', re.S | re.M)
PRINT_CHECK = re.compile(
    r'^(?P<indent>\s*)print\((?P<expr>.*)\)\s+#\s+(?P<expected>(?!e\.g\.).+)$',
    re.M)
# Paths the docs name as examples of files a user would create.
HYPOTHETICAL_PATHS = {'mmrazor/models/architectures/backbones/xxxnet.py'}


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def marked_blocks(page: Path, kind) -> List[Tuple[str, str]]:
    """Return ``(path or '', code)`` of the blocks of ``page`` of ``kind``
    (a kind or a tuple of kinds), in page order."""
    kinds = (kind, ) if isinstance(kind, str) else tuple(kind)
    blocks = []
    for match in MARKED_BLOCK.finditer(page.read_text()):
        if match['kind'].split()[0] in kinds:
            blocks.append((match['path'] or '', match['code']))
    return blocks


def runnable_snippets(page: Path) -> List[str]:
    """The code the page's ``run`` and ``file`` blocks stand for, in order.

    A ``file`` block becomes code that writes the block to its path.
    """
    snippets = []
    for path, code in marked_blocks(page, ('run', 'file')):
        if path:
            code = (f'import os\n'
                    f'os.makedirs(os.path.dirname({path!r}) or ".", '
                    f'exist_ok=True)\n'
                    f'with open({path!r}, "w") as f:\n'
                    f'    f.write({code!r})\n')
        else:
            code = with_print_checks(code)
        snippets.append(code)
    return snippets


def with_print_checks(code: str) -> str:
    """Turn ``print(x)  # text`` into a check that ``x`` prints as text."""
    return PRINT_CHECK.sub(
        lambda m: f"{m['indent']}__doc_check__({m['expr']}, "
        f"{m['expected'].strip()!r})", code)


# Runs the snippets of every page; PAGES_FILE and MARK are prepended.
RUNNER = textwrap.dedent('''
    import json
    import sys
    import traceback

    from mmengine.registry import DefaultScope


    def __doc_check__(value, expected):
        print(value)
        if str(value) != expected:
            raise AssertionError(
                f'prints {value}, but the docs say {expected}')


    with open(PAGES_FILE) as f:
        pages = json.load(f)
    ran = {}
    for page, snippets in pages.items():
        DefaultScope._instance_dict.clear()
        namespace = {'__name__': '__doc__', '__doc_check__': __doc_check__}
        for index, code in enumerate(snippets):
            name = f'{page} (snippet {index + 1})'
            try:
                exec(compile(code, name, 'exec'), namespace)
            except BaseException:
                print(f'FAILED: {name}\\n{code}', file=sys.stderr)
                traceback.print_exc()
                sys.exit(1)
        ran[page] = len(snippets)
    print(MARK + json.dumps(ran))
''')


def test_doc_snippets_run(tmp_path, run_python):
    pages: Dict[str, List[str]] = {}
    for page in PAGES:
        snippets = runnable_snippets(page)
        if snippets:
            pages[rel(page)] = snippets
    # The pages that promise runnable snippets still have them.
    assert len(pages.get('docs/en/get_started/quick_run.md', [])) >= 6
    assert len(pages.get(
        'docs/en/advanced_guides/customize_architectures.md', [])) >= 6

    for name in ('configs', 'examples'):
        (tmp_path / name).symlink_to(ROOT / name)
    pages_file = tmp_path / 'doc_snippets.json'
    pages_file.write_text(json.dumps(pages))
    script = (f'PAGES_FILE = {str(pages_file)!r}\n'
              f'MARK = {RESULT_MARK!r}\n' + RUNNER)
    result = run_python(script, cwd=tmp_path)
    assert result == {page: len(s) for page, s in pages.items()}


@pytest.mark.parametrize('page', PAGES, ids=rel)
def test_doc_excerpts_match_source(page):
    for path, code in marked_blocks(page, 'excerpt'):
        source = (ROOT / path).read_text().splitlines()
        position = 0
        for line in code.splitlines():
            if not line.strip() or line.strip() == '...':
                continue
            try:
                position = source.index(line.rstrip(), position) + 1
            except ValueError:
                pytest.fail(f'{rel(page)}: the excerpt line {line!r} is not '
                            f'in {path} (or not in this order)')


def heading_anchors(page: Path) -> set:
    """GitHub-style anchors of the headings of ``page``."""
    anchors = set()
    for line in page.read_text().splitlines():
        if line.startswith('#'):
            title = line.lstrip('#').strip().lower()
            title = re.sub(r'[^\w\- ]', '', title)
            anchors.add(title.replace(' ', '-'))
    return anchors


@pytest.mark.parametrize('page', PAGES + READMES, ids=rel)
def test_doc_links_and_paths_exist(page):
    text = page.read_text()
    for target in re.findall(r'\]\(([^)\s]+)\)', text):
        if '://' in target:
            continue
        file_part, _, anchor = target.partition('#')
        linked = (page.parent / file_part).resolve() if file_part else page
        assert linked.exists(), f'{rel(page)} links to missing {target}'
        if anchor:
            assert anchor in heading_anchors(linked), \
                f'{rel(page)} links to missing anchor {target}'
    paths = re.findall(
        r'(?<![\w/.])((?:configs|tools|examples|mmrazor|tests|requirements)'
        r'/[\w./-]*\.(?:py|yaml|sh|md|txt))', text)
    for path in set(paths) - HYPOTHETICAL_PATHS:
        assert (ROOT / path).exists(), f'{rel(page)} names missing {path}'


def test_installation_pins_match_requirements():
    page = (DOCS / 'get_started' / 'installation.md').read_text()
    runtime = (ROOT / 'requirements' / 'runtime.txt').read_text().split()
    for pin in ('torch==2.13.0', 'mmengine==0.10.7', 'mmcv-lite==2.0.1',
                'mmcls==1.0.0rc6', 'setuptools<82'):
        assert pin in runtime
        name, version = re.split(r'==|<', pin)
        assert re.search(rf'\| {name} \| [<>= ]*{re.escape(version)}', page), \
            f'installation.md does not list {pin}'
    for package, (_, low, high) in dependency.SUPPORTED.items():
        assert f'`>={low},<{high}`' in page, package


@pytest.mark.parametrize('package, found', [('mmcv', '2.2.0'),
                                            ('mmcls', None)])
def test_installation_quotes_dependency_errors(monkeypatch, package, found):
    real = dependency._installed_version

    def fake(dists):
        return found if package in dists else real(dists)

    monkeypatch.setattr(dependency, '_installed_version', fake)
    with pytest.raises(ImportError) as error:
        dependency.check_dependencies()
    page = (DOCS / 'get_started' / 'installation.md').read_text()
    assert f'ImportError: {error.value}' in page


def test_custom_imports_config_is_the_documented_one():
    page = (DOCS / 'advanced_guides' /
            'customize_architectures.md').read_text()
    documented = CLASSIFIER_CFG.replace(
        repr(str(SEARCH_SPACE)),
        "'../../_base_/nas_backbones/spos_shufflenet_supernet.py'")
    assert documented in page
