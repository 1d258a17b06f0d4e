"""JavaScriptChecker: V8's verdict on JavaScript files, through one long-lived node.

Every test here runs the real node found on this machine; the whole module is
skipped where there is none.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mechanic.detect.checkers import javascript
from mechanic.detect.checkers.base import Finding
from mechanic.detect.checkers.javascript import JavaScriptChecker, find_node
from mechanic.errors import CheckerUnavailable

NODE = find_node()
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

VALID_CJS = "const fs = require('fs');\nmodule.exports = { read: (p) => fs.readFileSync(p) };\n"
VALID_ESM = "import fs from 'node:fs';\n\nexport const read = (p) => fs.readFileSync(p);\n"
# The fault sits on line 4, after the imports: the case `node --check` misses in a
# package without "type" (nodejs/node#65202).
ESM_BROKEN_AFTER_IMPORTS = (
    "import fs from 'node:fs';\n"
    "import path from 'node:path';\n"
    "\n"
    "const r = [1,2,3].map(x => x * 2));\n"
    "export default r;\n"
)
CJS_BROKEN_LINE_4 = (
    "'use strict';\n"
    "const fs = require('fs');\n"
    "\n"
    "const r = [1,2,3].map(x => x * 2));\n"
    "module.exports = r;\n"
)
BROKEN_COLUMN = 34  # the stray ')'


def write(root: Path, relative: str, text: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def package(root: Path, relative: str, **fields: str) -> Path:
    """A package folder whose package.json holds `fields` (no "type" unless given)."""
    return write(root, f"{relative}/package.json", json.dumps({"name": "pkg", **fields})).parent


@pytest.fixture
def checker() -> Iterator[JavaScriptChecker]:
    with JavaScriptChecker() as checker:
        yield checker


def check(checker: JavaScriptChecker, path: Path) -> Finding | None:
    return checker.check_files([path])[path]


class TestIdentity:
    def test_declares_language_and_extensions(self) -> None:
        assert JavaScriptChecker.language == "javascript"
        assert JavaScriptChecker.extensions == (".js", ".mjs", ".cjs")

    def test_signature_names_the_node_version(self, checker: JavaScriptChecker) -> None:
        assert checker.signature().startswith("node v")


class TestValidFiles:
    def test_commonjs_file_is_valid(self, checker: JavaScriptChecker, tmp_path: Path) -> None:
        assert check(checker, write(tmp_path, "lib.js", VALID_CJS)) is None

    def test_cjs_extension_is_valid(self, checker: JavaScriptChecker, tmp_path: Path) -> None:
        assert check(checker, write(tmp_path, "lib.cjs", VALID_CJS)) is None

    def test_mjs_module_is_valid(self, checker: JavaScriptChecker, tmp_path: Path) -> None:
        assert check(checker, write(tmp_path, "lib.mjs", VALID_ESM)) is None

    def test_js_module_in_type_module_package_is_valid(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        root = package(tmp_path, "pkg", type="module")
        assert check(checker, write(root, "src/deep/lib.js", VALID_ESM)) is None

    def test_js_module_in_package_without_type_is_valid(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        root = package(tmp_path, "pkg")
        assert check(checker, write(root, "lib.js", VALID_ESM)) is None

    def test_top_level_await_in_untyped_js_is_a_module(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        assert check(checker, write(tmp_path, "main.js", "await Promise.resolve(1);\n")) is None

    def test_top_level_return_is_valid_commonjs(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        source = "if (!process.env.X) return;\nmodule.exports = 1;\n"
        assert check(checker, write(tmp_path, "early.js", source)) is None

    def test_hashbang_line_is_not_an_error(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        cli = write(tmp_path, "cli.js", "#!/usr/bin/env node\n" + VALID_CJS)
        esm_cli = write(tmp_path, "cli.mjs", "#!/usr/bin/env node\n" + VALID_ESM)
        assert checker.check_files([cli, esm_cli]) == {cli: None, esm_cli: None}

    def test_utf8_bom_is_not_an_error(self, checker: JavaScriptChecker, tmp_path: Path) -> None:
        bom = b"\xef\xbb\xbf"
        cjs = write(tmp_path, "bom.js", bom + VALID_CJS.encode())
        esm = write(tmp_path, "bom.mjs", bom + VALID_ESM.encode())
        assert checker.check_files([cjs, esm]) == {cjs: None, esm: None}


class TestBrokenFiles:
    def test_error_after_imports_in_untyped_package_is_found_on_its_line(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        root = package(tmp_path, "pkg")
        path = write(root, "lib.js", ESM_BROKEN_AFTER_IMPORTS)
        assert check(checker, path) == Finding(
            path=path,
            language="javascript",
            line=4,
            column=BROKEN_COLUMN,
            message="SyntaxError: Unexpected token ')'",
        )

    def test_error_after_imports_with_no_package_json_at_all(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        finding = check(checker, write(tmp_path, "lib.js", ESM_BROKEN_AFTER_IMPORTS))
        assert finding is not None
        assert (finding.line, finding.column) == (4, BROKEN_COLUMN)

    def test_commonjs_error_has_line_and_column(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        path = write(tmp_path, "lib.cjs", CJS_BROKEN_LINE_4)
        finding = check(checker, path)
        assert finding is not None
        assert finding.where() == f"{path}:4:{BROKEN_COLUMN}"
        assert finding.message == "SyntaxError: Unexpected token ')'"
        assert finding.kind == "syntax"

    def test_mjs_error_has_line_and_column(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        finding = check(checker, write(tmp_path, "lib.mjs", ESM_BROKEN_AFTER_IMPORTS))
        assert finding is not None
        assert (finding.line, finding.column) == (4, BROKEN_COLUMN)

    def test_columns_count_characters_not_bytes_or_utf16_units(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        source = 'const é = "😀"; const r = [1].map(x => x));\n'
        for name in ("wide.cjs", "wide.mjs"):
            finding = check(checker, write(tmp_path, name, source))
            assert finding is not None
            assert finding.column == source.index("));") + 2, name

    def test_error_lines_are_counted_after_a_hashbang_and_bom(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        source = b"\xef\xbb\xbf#!/usr/bin/env node\n" + ESM_BROKEN_AFTER_IMPORTS.encode()
        finding = check(checker, write(tmp_path, "cli.mjs", source))
        assert finding is not None
        assert (finding.line, finding.column) == (5, BROKEN_COLUMN)

    def test_import_in_cjs_file_is_an_error(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        finding = check(checker, write(tmp_path, "lib.cjs", VALID_ESM))
        assert finding is not None
        assert finding.message == "SyntaxError: Cannot use import statement outside a module"
        assert (finding.line, finding.column) == (1, 1)

    def test_import_in_type_commonjs_package_is_an_error(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        root = package(tmp_path, "pkg", type="commonjs")
        finding = check(checker, write(root, "lib.js", VALID_ESM))
        assert finding is not None
        assert "Cannot use import statement outside a module" in finding.message

    def test_commonjs_in_type_module_package_with_module_only_error(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        # `with` is legal sloppy CommonJS but modules are strict.
        root = package(tmp_path, "pkg", type="module")
        finding = check(checker, write(root, "lib.js", "with (Math) { max(1, 2); }\n"))
        assert finding is not None
        assert finding.line == 1

    def test_nearest_package_json_decides_even_without_type(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        # node stops at the first package.json: the outer "commonjs" does not apply
        # to the inner package, so its ESM file is detected as a module.
        outer = package(tmp_path, "outer", type="commonjs")
        inner = package(outer, "inner")
        assert check(checker, write(inner, "lib.js", VALID_ESM)) is None
        assert check(checker, write(outer, "lib.js", VALID_ESM)) is not None


class TestCheckSource:
    def test_judges_the_bytes_given_not_the_file_on_disk(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        path = write(tmp_path, "lib.js", VALID_CJS)
        finding = checker.check_source(path, CJS_BROKEN_LINE_4.encode())
        assert finding is not None
        assert finding.path == path
        assert (finding.line, finding.column) == (4, BROKEN_COLUMN)

        broken_on_disk = write(tmp_path, "broken.js", CJS_BROKEN_LINE_4)
        assert checker.check_source(broken_on_disk, VALID_CJS.encode()) is None

    def test_path_need_not_exist(self, checker: JavaScriptChecker, tmp_path: Path) -> None:
        assert checker.check_source(tmp_path / "nowhere" / "x.mjs", VALID_ESM.encode()) is None

    def test_path_decides_the_mode(self, checker: JavaScriptChecker, tmp_path: Path) -> None:
        root = package(tmp_path, "pkg")
        finding = checker.check_source(root / "lib.js", ESM_BROKEN_AFTER_IMPORTS.encode())
        assert finding is not None
        assert finding.line == 4
        assert checker.check_source(root / "lib.cjs", VALID_ESM.encode()) is not None

    def test_invalid_utf8_is_judged_not_fatal(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        assert checker.check_source(tmp_path / "a.js", b"const s = '\xff\xfe';\n") is None
        assert checker.check_source(tmp_path / "b.js", b"const \xff = 1;\n") is not None

    def test_large_source_goes_through(self, checker: JavaScriptChecker, tmp_path: Path) -> None:
        body = "".join(f"exports.f{i} = function () {{ return {i}; }};\n" for i in range(100_000))
        assert checker.check_source(tmp_path / "big.js", body.encode()) is None
        finding = checker.check_source(tmp_path / "big.js", (body + "}\n").encode())
        assert finding is not None
        assert finding.line == 100_001


class TestOddPaths:
    @pytest.mark.parametrize(
        "name", ["with space.js", "ünïcödé 😀.mjs", "quote'\"back\\slash.cjs", "new\nline.js"]
    )
    def test_odd_file_names_work(
        self, checker: JavaScriptChecker, tmp_path: Path, name: str
    ) -> None:
        if "\n" in name and sys.platform == "win32":
            pytest.skip("Windows forbids newlines in file names")
        valid = write(tmp_path, f"ok/{name}", VALID_CJS)
        broken = write(tmp_path, f"bad/{name}", CJS_BROKEN_LINE_4)
        results = checker.check_files([valid, broken])
        assert results[valid] is None
        finding = results[broken]
        assert finding is not None
        assert finding.path == broken
        assert finding.line == 4

    def test_name_that_is_not_utf8_is_still_judged(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        raw = os.fsencode(tmp_path) + b"/bad\xff.js"
        try:
            with open(raw, "wb") as handle:
                handle.write(CJS_BROKEN_LINE_4.encode())
        except OSError:
            pytest.skip("this file system refuses names that are not UTF-8")
        path = Path(os.fsdecode(raw))
        finding = check(checker, path)
        assert finding is not None
        assert finding.line == 4

    def test_relative_paths_are_kept_as_given(
        self, checker: JavaScriptChecker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        write(tmp_path, "rel.js", CJS_BROKEN_LINE_4)
        monkeypatch.chdir(tmp_path)
        finding = check(checker, Path("rel.js"))
        assert finding is not None
        assert finding.path == Path("rel.js")


class TestBatches:
    def test_many_files_in_one_batch_share_one_node_process(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        paths = [write(tmp_path, f"f{i:03}.js", VALID_CJS) for i in range(500)]
        broken = {paths[i] for i in (7, 250, 499)}
        for path in broken:
            path.write_text(CJS_BROKEN_LINE_4)

        results = checker.check_files(paths)
        pid = checker.pid
        assert pid is not None
        assert list(results) == paths
        assert {path for path, finding in results.items() if finding} == broken

        assert checker.check_files(paths) == results
        assert checker.check_source(paths[0], b"ok();") is None
        assert checker.pid == pid

    def test_duplicate_paths_are_judged_once(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        path = write(tmp_path, "a.js", VALID_CJS)
        assert checker.check_files([path, path, path]) == {path: None}

    def test_empty_batch_starts_nothing(self) -> None:
        checker = JavaScriptChecker()
        assert checker.check_files([]) == {}
        assert checker.pid is None


class TestUnreadableFiles:
    def test_missing_file_and_directory_are_left_out(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        good = write(tmp_path, "good.js", VALID_CJS)
        vanished = tmp_path / "vanished.js"
        folder = tmp_path / "folder.js"
        folder.mkdir()
        assert checker.check_files([vanished, good, folder]) == {good: None}

    @pytest.mark.skipif(
        sys.platform == "win32" or os.geteuid() == 0, reason="root reads every file"
    )
    def test_file_without_read_permission_is_left_out(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        good = write(tmp_path, "good.js", VALID_CJS)
        locked = write(tmp_path, "locked.js", VALID_CJS)
        locked.chmod(0)
        try:
            assert checker.check_files([locked, good]) == {good: None}
        finally:
            locked.chmod(0o644)

    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
    def test_named_pipe_is_left_out_instead_of_hanging(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        fifo = tmp_path / "pipe.js"
        os.mkfifo(fifo)
        assert checker.check_files([fifo]) == {}


@pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals and NODE_OPTIONS files")
class TestNodeProcess:
    def test_missing_node_is_reported_at_first_use(self, tmp_path: Path) -> None:
        checker = JavaScriptChecker(node="/nonexistent/node")
        with pytest.raises(CheckerUnavailable, match="node not found"):
            checker.check_source(tmp_path / "a.js", b"1;")
        with pytest.raises(CheckerUnavailable):
            checker.signature()

    def test_no_node_anywhere_is_reported_with_how_to_fix(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PATH", str(tmp_path))
        monkeypatch.setattr(javascript, "FALLBACK_NODES", (str(tmp_path / "node"),))
        with pytest.raises(CheckerUnavailable, match=r"node not found on PATH.*install Node\.js"):
            JavaScriptChecker().check_files([write(tmp_path, "a.js", VALID_CJS)])

    def test_a_node_that_cannot_run_the_script_is_unavailable(self, tmp_path: Path) -> None:
        fake = write(tmp_path, "node", "#!/bin/sh\necho 'not node' >&2\nexit 1\n")
        fake.chmod(0o755)
        with pytest.raises(CheckerUnavailable, match="not node"):
            JavaScriptChecker(node=str(fake)).check_source(tmp_path / "a.js", b"1;")

    def test_node_killed_between_checks_is_replaced(
        self, checker: JavaScriptChecker, tmp_path: Path
    ) -> None:
        path = write(tmp_path, "a.js", CJS_BROKEN_LINE_4)
        assert check(checker, path) is not None
        pid = checker.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)

        finding = check(checker, path)
        assert finding is not None
        assert finding.line == 4
        assert checker.pid not in (None, pid)

    def test_node_dying_during_a_check_is_restarted_once(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        marker = tmp_path / "crashed-once"
        preload = write(
            tmp_path,
            "crash_once.cjs",
            "const fs = require('fs');\n"
            f"const marker = {json.dumps(str(marker))};\n"
            "if (!fs.existsSync(marker)) {\n"
            "  fs.writeFileSync(marker, '');\n"
            "  process.stdin.once('data', () => process.exit(7));\n"
            "}\n",
        )
        monkeypatch.setenv("NODE_OPTIONS", f'--require "{preload}"')
        paths = [write(tmp_path, f"f{i}.js", VALID_CJS) for i in range(20)]
        with JavaScriptChecker() as checker:
            assert checker.check_files(paths) == dict.fromkeys(paths)
        assert marker.exists()

    def test_node_dying_twice_is_unavailable(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        preload = write(tmp_path, "crash.cjs", "process.stdin.once('data', () => process.exit(7));")
        monkeypatch.setenv("NODE_OPTIONS", f'--require "{preload}"')
        path = write(tmp_path, "a.js", VALID_CJS)
        with JavaScriptChecker() as checker, pytest.raises(CheckerUnavailable, match=r"a\.js"):
            checker.check_files([path])

    def test_a_file_node_cannot_finish_times_out_and_names_the_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        preload = write(tmp_path, "hang.cjs", "process.stdin.once('data', () => { for (;;); });")
        monkeypatch.setenv("NODE_OPTIONS", f'--require "{preload}"')
        path = write(tmp_path, "slow.js", VALID_CJS)
        with JavaScriptChecker(timeout=1) as checker:
            with pytest.raises(CheckerUnavailable, match=r"slow\.js"):
                checker.check_files([path])
            assert checker.pid is None

            monkeypatch.delenv("NODE_OPTIONS")
            assert checker.check_files([path]) == {path: None}

    def test_close_ends_node_and_a_later_check_starts_it_again(self, tmp_path: Path) -> None:
        checker = JavaScriptChecker()
        path = write(tmp_path, "a.js", VALID_CJS)
        checker.check_files([path])
        pid = checker.pid
        assert pid is not None
        checker.close()
        assert checker.pid is None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        assert checker.check_files([path]) == {path: None}
        checker.close()
