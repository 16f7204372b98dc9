"""Packaging of mmrazor: model compression (NAS, pruning, distillation).

Like the other OpenMMLab packages, mmrazor ships its configs, its tools and
``model-index.yml`` (with the metafiles it lists) as package data under
``mmrazor/.mim``: mmengine resolves ``_base_ = ['mmrazor::...']`` there and
``mim train / test / search mmrazor`` read it. A wheel gets copies (see
:class:`BuildPy`); an editable install gets links in the source tree, so
edits to ``configs/`` show at once (see :class:`EditableWheel`).
"""
import os
import os.path as osp
import shutil
import warnings
from typing import List

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
# repository paths that ``mmrazor/.mim`` holds, under the same names
MIM_ITEMS = ('configs', 'tools', 'model-index.yml')
MIM_IGNORE = shutil.ignore_patterns('__pycache__', '*.pyc', '*.egg-info')


def read_requirements(name: str) -> List[str]:
    """Return the requirement lines of ``requirements/<name>.txt``."""
    lines = []
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line and not line.startswith('-'):
                lines.append(line)
    return lines


def copy_mim(mim_dir: str) -> None:
    """Copy :data:`MIM_ITEMS` from the repository into ``mim_dir``."""
    os.makedirs(mim_dir, exist_ok=True)
    for item in MIM_ITEMS:
        src, dst = osp.join(HERE, item), osp.join(mim_dir, item)
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=MIM_IGNORE, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, dst)


def link_mim(mim_dir: str = osp.join(HERE, 'mmrazor', '.mim')) -> None:
    """Point ``mmrazor/.mim/<item>`` of the source tree at the repository's
    :data:`MIM_ITEMS` with relative symbolic links (copies where links
    cannot be made, e.g. on Windows without the privilege).

    An existing link is replaced; an existing file or folder is kept.
    """
    os.makedirs(mim_dir, exist_ok=True)
    for item in MIM_ITEMS:
        dst = osp.join(mim_dir, item)
        if osp.islink(dst):
            os.remove(dst)
        elif osp.exists(dst):
            warnings.warn(
                f'{dst} exists and is not a link: kept as it is',
                stacklevel=2)
            continue
        try:
            os.symlink(osp.join(os.pardir, os.pardir, item), dst)
        except OSError:
            src = osp.join(HERE, item)
            if osp.isdir(src):
                shutil.copytree(src, dst, ignore=MIM_IGNORE)
            else:
                shutil.copyfile(src, dst)


class BuildPy(build_py):
    """``build_py`` that also copies :data:`MIM_ITEMS` into the built
    package's ``.mim`` folder, so that wheels carry them."""

    def run(self) -> None:
        super().run()
        if not getattr(self, 'editable_mode', False):
            copy_mim(osp.join(self.build_lib, 'mmrazor', '.mim'))


def editable_commands() -> dict:
    """The commands of an editable install: both link ``mmrazor/.mim`` into
    the source tree.

    ``pip install -e`` builds a PEP 660 editable wheel: its metadata lies in
    site-packages, with no ``mmrazor`` folder beside it, where mmengine's
    and openmim's ``get_installed_path`` look first. Both then join the
    metadata's location with the first line of ``top_level.txt``; writing
    the source package's absolute path there makes them find the source
    tree (and its ``.mim``), as ``setup.py develop`` installs did.
    """
    from setuptools.command.editable_wheel import editable_wheel

    class EditableWheel(editable_wheel):
        """``editable_wheel`` that links ``mmrazor/.mim`` and makes the
        installed metadata point at the source package."""

        def run(self) -> None:
            link_mim()
            if self.dist_info_dir is None:
                dist_info = self.reinitialize_command('dist_info')
                dist_info.output_dir = self.dist_dir
                dist_info.ensure_finalized()
                dist_info.run()
                self.dist_info_dir = dist_info.dist_info_dir
            top_level = osp.join(self.dist_info_dir, 'top_level.txt')
            with open(top_level, 'w') as f:
                f.write(osp.join(HERE, 'mmrazor') + '\nmmrazor\n')
            super().run()

    commands = dict(editable_wheel=EditableWheel)
    try:  # `setup.py develop` (legacy editable installs), while it exists
        from setuptools.command.develop import develop
    except ImportError:
        return commands

    class Develop(develop):
        """``develop`` that links ``mmrazor/.mim`` first."""

        def run(self) -> None:
            link_mim()
            super().run()

    commands['develop'] = Develop
    return commands


def get_version() -> str:
    """Read ``__version__`` from ``mmrazor/version.py`` without importing."""
    scope: dict = {}
    with open(osp.join(HERE, 'mmrazor', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


if __name__ == '__main__':
    setup(
        name='mmrazor',
        version=get_version(),
        description='Model compression toolkit for the OpenMMLab ecosystem: '
        'NAS, channel pruning and knowledge distillation',
        long_description=open(osp.join(HERE, 'README.md')).read(),
        long_description_content_type='text/markdown',
        keywords='computer vision, model compression, NAS, pruning, '
        'knowledge distillation',
        packages=find_packages(include=('mmrazor', 'mmrazor.*')),
        include_package_data=True,
        cmdclass=dict(build_py=BuildPy, **editable_commands()),
        python_requires='>=3.10',
        license='Apache License 2.0',
        install_requires=read_requirements('runtime'),
        extras_require={
            'tests': read_requirements('tests'),
            'optional': read_requirements('optional'),
            # PT2E quantization (torchao pinned beside torch 2.13.0)
            'quant': read_requirements('quant'),
            # the OpenVINO runtime for the QDQ ONNX check (180 MB installed)
            'openvino': read_requirements('openvino'),
            # peer libraries the benchmarks measure against
            'benchmark': read_requirements('benchmark'),
            'all': read_requirements('tests') +
            read_requirements('optional') + read_requirements('benchmark') +
            read_requirements('quant') + read_requirements('openvino'),
        },
        classifiers=[
            'Programming Language :: Python :: 3',
            'Programming Language :: Python :: 3.11',
        ],
        zip_safe=False)
