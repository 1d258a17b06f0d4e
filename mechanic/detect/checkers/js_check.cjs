'use strict';
// Long-lived syntax checker for JavaScript, driven by mechanic/detect/checkers/javascript.py.
//
// Run as: node --experimental-vm-modules --no-warnings js_check.cjs
//
// Protocol: JSON lines. On start it writes {"ready": true, "node": "v20..."}.
// Then, for every request line
//   {"id": n, "path": "/abs/file.js", "source": "..."}   ("source" optional)
// it writes exactly one answer line, in request order:
//   {"id": n, "ok": true}
//   {"id": n, "ok": false, "line": L|null, "column": C|null, "message": "SyntaxError: ..."}
//   {"id": n, "ok": false, "unreadable": true, "message": "..."}  (file could not be read)
// Lines and columns are 1-based; columns count characters (code points).
// Without "source" the file is read here, which spares the pipe the file's bytes.
//
// The verdict is V8's: what this node would refuse to load is an error, nothing else.
// acorn (vendor/acorn.js, MIT) is only consulted for a location, because V8 attaches
// none to module parse errors.

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const CJS_PARAMS = ['exports', 'require', 'module', '__filename', '__dirname'];

// CommonJS compile errors that mean "this is an ES module", the same lists node's own
// module-type detection uses (lib/internal/modules/helpers.js, node 22).
const ESM_SYNTAX_MESSAGES = new Set([
  'Cannot use import statement outside a module',
  "Unexpected token 'export'",
  "Cannot use 'import.meta' outside a module",
]);
const CJS_ONLY_MESSAGES = new Set([
  "Identifier 'module' has already been declared",
  "Identifier 'exports' has already been declared",
  "Identifier 'require' has already been declared",
  "Identifier '__filename' has already been declared",
  "Identifier '__dirname' has already been declared",
  'await is only valid in async functions and the top level bodies of modules',
]);

// A runaway message (a huge regex literal quoted back) must not bloat the answer.
const MAX_MESSAGE = 2000;

// package.json answers are cached per folder, but only briefly: the process lives as
// long as the daemon, and a package.json edited later must be seen.
const PACKAGE_CACHE_MS = 2000;
const packageCache = new Map();

function readPackageType(dir) {
  let text;
  try {
    text = readRegular(path.join(dir, 'package.json'));
  } catch {
    return undefined;
  }
  try {
    const type = JSON.parse(text).type;
    return type === 'module' || type === 'commonjs' ? type : null;
  } catch {
    // node itself refuses a broken package.json; judging the file without a type is
    // the most useful thing a syntax checker can do.
    return null;
  }
}

// The "type" of the nearest package.json, as node looks it up: the first package.json
// walking up wins even without a "type", and the walk never crosses a node_modules
// folder (node's readPackageScope).
function packageType(dir) {
  const now = Date.now();
  const visited = [];
  let type = null;
  let current = dir;
  for (;;) {
    const hit = packageCache.get(current);
    if (hit !== undefined && now - hit.at < PACKAGE_CACHE_MS) {
      type = hit.type;
      break;
    }
    visited.push(current);
    if (path.basename(current) === 'node_modules') break;
    const found = readPackageType(current);
    if (found !== undefined) {
      type = found;
      break;
    }
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of visited) packageCache.set(folder, { type, at: now });
  return type;
}

// 'module', 'commonjs', or 'detect' (commonjs first, module when that fails the ESM way).
function modeFor(file) {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.mjs') return 'module';
  if (ext === '.cjs') return 'commonjs';
  return packageType(path.dirname(file)) || 'detect';
}

function compileCommonJS(source, file) {
  vm.compileFunction(source, CJS_PARAMS, { filename: file });
}

function compileModule(source, file) {
  // Constructing the module parses it; it is never linked or evaluated.
  new vm.SourceTextModule(source, { identifier: file });
}

function attempt(compile, source, file) {
  try {
    compile(source, file);
    return null;
  } catch (error) {
    return error;
  }
}

// Column (0-based, UTF-16 units as V8 and acorn count) -> 1-based code point column.
function toCharColumn(lineText, utf16Column) {
  let count = 0;
  for (const _ of lineText.slice(0, utf16Column)) count += 1;
  return count + 1;
}

// compileFunction errors carry node's decoration: "FILE:LINE\n<source line>\n   ^^^\n\n".
function v8Location(error, file) {
  const stack = typeof error.stack === 'string' ? error.stack : '';
  const prefix = `${file}:`;
  if (!stack.startsWith(prefix)) return null;
  const rest = stack.slice(prefix.length);
  const match = /^(\d+)\n/.exec(rest);
  if (!match) return null;
  const line = Number(match[1]);
  const [sourceLine = '', underline = ''] = rest.slice(match[0].length).split('\n', 2);
  const caret = underline.indexOf('^');
  const column = caret >= 0 && /^[ \t]*\^/.test(underline) ? toCharColumn(sourceLine, caret) : null;
  return { line, column };
}

let acorn = null;

function acornLocation(source, mode) {
  acorn = acorn || require('./vendor/acorn.js');
  try {
    acorn.parse(source, {
      ecmaVersion: 'latest',
      // acorn's "commonjs" parses the top level as a function body, as node wraps it.
      sourceType: mode === 'module' ? 'module' : 'commonjs',
      allowHashBang: true,
      locations: true,
    });
    return null;
  } catch (error) {
    if (!error || !error.loc || typeof error.pos !== 'number') return null;
    const { line, column } = error.loc;
    return { line, column: toCharColumn(source.slice(error.pos - column), column) };
  }
}

function locate(error, source, file, mode) {
  // V8's own location is the error it actually reported; acorn might complain
  // elsewhere (or not at all) where the two grammars differ.
  const fromV8 = mode === 'commonjs' ? v8Location(error, file) : null;
  if (fromV8) return fromV8;
  const fromAcorn = acornLocation(source, mode);
  if (fromAcorn) return fromAcorn;
  if (mode === 'module') {
    // Module errors come without a location. If the same source compiled as
    // CommonJS fails with the very same message, that failure's place is the place.
    const asScript = attempt(compileCommonJS, source, file);
    if (asScript && asScript.message === error.message) {
      const place = v8Location(asScript, file);
      if (place) return place;
    }
  }
  return { line: null, column: null };
}

function describe(error) {
  const name = error && error.name ? error.name : 'Error';
  const message = error && error.message !== undefined ? String(error.message) : String(error);
  const text = `${name}: ${message}`;
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}...` : text;
}

function judge(source, file) {
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
  // A hashbang is fine for node but not inside compileFunction's wrapper; a comment of
  // the same line keeps every line number where it was.
  if (source.startsWith('#!')) source = `//${source.slice(2)}`;

  let mode = modeFor(file);
  let error;
  if (mode === 'module') {
    error = attempt(compileModule, source, file);
  } else {
    error = attempt(compileCommonJS, source, file);
    if (error && mode === 'detect' && error instanceof SyntaxError) {
      const esm = ESM_SYNTAX_MESSAGES.has(error.message);
      if (esm || CJS_ONLY_MESSAGES.has(error.message)) {
        const moduleError = attempt(compileModule, source, file);
        if (!moduleError) return null;
        // ESM syntax means the file is a module, so the module's complaint is the real
        // one (it sits after the imports, the fault `node --check` misses).
        if (esm || moduleError.message !== error.message) {
          mode = 'module';
          error = moduleError;
        }
      }
    }
    if (mode === 'detect') mode = 'commonjs';
  }
  if (!error) return null;
  return { message: describe(error), ...locate(error, source, file, mode) };
}

// The same rule as mechanic/files/userfile.py: a FIFO, socket, device or folder swapped in
// for a user's file would block the read forever (or never end), so the path is
// stat'ed, opened with O_NONBLOCK, and the open descriptor must be a regular file.
function notRegular(file, stat) {
  const kind = stat.isDirectory() ? 'a folder' : stat.isFIFO() ? 'a FIFO'
    : stat.isSocket() ? 'a socket' : stat.isCharacterDevice() ? 'a character device'
    : stat.isBlockDevice() ? 'a block device' : 'not a regular file';
  const error = new Error(`not a regular file (${kind}): ${file}`);
  error.code = 'ENOTFILE';
  return error;
}

function readRegular(file) {
  const before = fs.statSync(file);
  if (!before.isFile()) throw notRegular(file, before);
  const { O_RDONLY, O_NONBLOCK, O_NOCTTY } = fs.constants;
  const fd = fs.openSync(file, O_RDONLY | O_NONBLOCK | (O_NOCTTY || 0));
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw notRegular(file, stat);
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function answer(line) {
  let id = null;
  try {
    const request = JSON.parse(line);
    id = request.id;
    if (request.op === 'first_valid') return { id, ok: true, ...firstValid(request) };
    if (request.op === 'undeclared') return { id, ok: true, ...undeclared(request) };
    if (request.op === 'shape') return { id, ok: true, ...shape(request) };
    const file = request.path;
    let source = request.source;
    if (typeof source !== 'string') {
      try {
        source = readRegular(file);
      } catch (error) {
        return { id, ok: false, unreadable: true, message: describe(error) };
      }
    }
    const problem = judge(source, file);
    return problem ? { id, ok: false, ...problem } : { id, ok: true };
  } catch (error) {
    // A bug here, not a verdict on the file: the Python side reports it loudly.
    return { id, ok: false, internal: true, message: describe(error) };
  }
}

// --- batch candidate checking (the deterministic repair rung) ---------------------------
//
//   {"id": n, "op": "first_valid", "path": P, "source": S, "edits": [E, ...], "limit_ms": T}
// where each E is a list of [start, end, text] replacements (UTF-16 offsets into S,
// not overlapping). Answers {"id": n, "ok": true, "index": i|null, "tried": k}: the
// first candidate V8 accepts, judged exactly as a file would be (judge()). One message
// carries many candidates so that a search costs one round trip, not one per candidate.

function applyEdits(source, edit) {
  const parts = [...edit].sort((a, b) => b[0] - a[0]);
  let out = source;
  for (const [start, end, text] of parts) out = out.slice(0, start) + text + out.slice(end);
  return out;
}

function firstValid(request) {
  const deadline = Date.now() + (request.limit_ms || 2000);
  const edits = request.edits || [];
  for (let i = 0; i < edits.length; i += 1) {
    if (Date.now() > deadline) return { index: null, tried: i, timed_out: true };
    if (!judge(applyEdits(request.source, edits[i]), request.path)) return { index: i, tried: i + 1 };
  }
  return { index: null, tried: edits.length };
}

// --- undeclared names (static errors) -------------------------------------------------
//
//   {"id": n, "op": "undeclared", "path": P, "source": S}
// Answers {"id": n, "ok": true, "names": [[name, line, column], ...]} for every reference
// to a name declared nowhere in the file and not a known global, or {"parsed": false}
// when acorn cannot parse it. Deliberately generous: any declaration anywhere in the
// file (and any assignment to a bare name) counts, so only names that cannot resolve
// at all are reported; `typeof x` is never a reference.

// Browser, worker and common test-runner globals; node's own come from globalThis.
const EXTRA_GLOBALS = `window self document navigator location history screen frames parent top
opener localStorage sessionStorage indexedDB caches alert confirm prompt print open close
XMLHttpRequest fetch Headers Request Response FormData Blob File FileReader FileList
Event EventTarget CustomEvent MessageEvent ErrorEvent KeyboardEvent MouseEvent UIEvent
PointerEvent TouchEvent FocusEvent InputEvent ProgressEvent Node Element HTMLElement
HTMLDocument Document DocumentFragment Text Comment Attr NodeList HTMLCollection Image Audio
Option getComputedStyle matchMedia requestAnimationFrame cancelAnimationFrame
requestIdleCallback cancelIdleCallback MutationObserver ResizeObserver IntersectionObserver
Worker SharedWorker ServiceWorker importScripts postMessage onmessage WebSocket EventSource
Notification CSS CSSStyleSheet DOMParser XMLSerializer DOMException Range Selection
getSelection scrollTo scrollBy innerWidth innerHeight outerWidth outerHeight devicePixelRatio
pageXOffset pageYOffset scrollX scrollY customElements ShadowRoot HTMLCanvasElement
CanvasRenderingContext2D WebGLRenderingContext OffscreenCanvas ImageData ImageBitmap
createImageBitmap crypto Crypto SubtleCrypto origin name status external chrome browser
define requirejs describe it test expect beforeEach afterEach beforeAll afterAll before
after jest context suite setup teardown xit xdescribe fit fdescribe
arguments undefined NaN Infinity eval globalThis`.split(/\s+/);
let knownGlobals = null;

function globalNames() {
  if (!knownGlobals) {
    knownGlobals = new Set(EXTRA_GLOBALS);
    for (const name of Object.getOwnPropertyNames(globalThis)) knownGlobals.add(name);
    for (const name of CJS_PARAMS) knownGlobals.add(name);
    for (const name of ['require', 'module', 'exports', '__filename', '__dirname', 'global',
      'process', 'Buffer', 'setImmediate', 'clearImmediate', 'console']) knownGlobals.add(name);
  }
  return knownGlobals;
}

function bindPattern(node, declared) {
  if (!node) return;
  switch (node.type) {
    case 'Identifier': declared.add(node.name); break;
    case 'ObjectPattern':
      for (const p of node.properties) bindPattern(p.type === 'RestElement' ? p.argument : p.value, declared);
      break;
    case 'ArrayPattern': for (const e of node.elements) bindPattern(e, declared); break;
    case 'AssignmentPattern': bindPattern(node.left, declared); break;
    case 'RestElement': bindPattern(node.argument, declared); break;
    default: break; // MemberExpression targets bind nothing
  }
}

// Identifier children that are not references: property names, labels, export aliases.
function notReference(parent, key, node) {
  switch (parent.type) {
    case 'MemberExpression': return key === 'property' && !parent.computed;
    case 'Property': case 'MethodDefinition': case 'PropertyDefinition':
      return key === 'key' && !parent.computed;
    case 'LabeledStatement': case 'BreakStatement': case 'ContinueStatement': return key === 'label';
    case 'ImportSpecifier': case 'ImportDefaultSpecifier': case 'ImportNamespaceSpecifier': return true;
    case 'ExportSpecifier': return key === 'exported' || parent.__fromSource === true;
    case 'ExportAllDeclaration': return key === 'exported';
    case 'MetaProperty': return true;
    case 'UnaryExpression': return parent.operator === 'typeof' && node.type === 'Identifier';
    default: return false;
  }
}

function collectNames(ast) {
  const declared = new Set();
  const references = [];
  const visit = (node, parent, key) => {
    if (!node || typeof node.type !== 'string') return;
    switch (node.type) {
      case 'VariableDeclarator': bindPattern(node.id, declared); break;
      case 'FunctionDeclaration': case 'FunctionExpression': case 'ArrowFunctionExpression':
        if (node.id) declared.add(node.id.name);
        for (const param of node.params) bindPattern(param, declared);
        break;
      case 'ClassDeclaration': case 'ClassExpression': if (node.id) declared.add(node.id.name); break;
      case 'CatchClause': bindPattern(node.param, declared); break;
      case 'ImportSpecifier': case 'ImportDefaultSpecifier': case 'ImportNamespaceSpecifier':
        declared.add(node.local.name);
        break;
      case 'AssignmentExpression': bindPattern(node.left, declared); break;
      case 'ExportNamedDeclaration':
        if (node.source) for (const s of node.specifiers) s.__fromSource = true;
        break;
      case 'Identifier':
        if (!parent || !notReference(parent, key, node)) references.push(node);
        return;
      default: break;
    }
    for (const childKey of Object.keys(node)) {
      if (childKey === 'loc' || childKey === '__fromSource') continue;
      const child = node[childKey];
      if (Array.isArray(child)) {
        for (const item of child) if (item && typeof item.type === 'string') visit(item, node, childKey);
      } else if (child && typeof child.type === 'string') {
        visit(child, node, childKey);
      }
    }
  };
  visit(ast, null, null);
  return { declared, references };
}

function globalComments(source, declared) {
  // /* global a, b:writable */ and /* globals ... */ declare names, as in ESLint.
  const pattern = /\/\*\s*globals?\s([^*]*)\*\//g;
  let match;
  while ((match = pattern.exec(source)) !== null) {
    for (const item of match[1].split(/[\s,]+/)) if (item) declared.add(item.split(':')[0]);
  }
}

function undeclared(request) {
  acorn = acorn || require('./vendor/acorn.js');
  let source = request.source;
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
  const mode = modeFor(request.path);
  let ast = null;
  for (const sourceType of mode === 'module' ? ['module'] : ['commonjs', 'module']) {
    try {
      ast = acorn.parse(source, {
        ecmaVersion: 'latest', sourceType, allowHashBang: true, locations: true,
        allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true,
      });
      break;
    } catch {
      ast = null;
    }
  }
  if (!ast) return { parsed: false, names: [] };
  const { declared, references } = collectNames(ast);
  globalComments(source, declared);
  const known = globalNames();
  const names = [];
  for (const ref of references) {
    if (!declared.has(ref.name) && !known.has(ref.name)) {
      names.push([ref.name, ref.loc.start.line, ref.loc.start.column + 1]);
    }
  }
  return { parsed: true, names };
}

// --- shape (the meaning guard, mechanic/repair/guard/meaning.py) -------------------------------------
//
//   {"id": n, "op": "shape", "path": P, "source": S}
// Answers {"id": n, "ok": true, "parsed": true, "commas": [o, ...], "asi": [o, ...]}:
// UTF-16 offsets of every comma that is a comma operator (it separates the expressions
// of a SequenceExpression, not arguments or elements) and every label's colon, and of
// every place where
// automatic semicolon insertion ended a statement. {"parsed": false} when acorn cannot
// parse the source. A fix that only parses because of one of these changed the program.

function sequenceCommas(source, ast) {
  const commas = [];
  const visit = (node) => {
    if (!node || typeof node.type !== 'string') return;
    if (node.type === 'LabeledStatement') {
      // `print: total` parses as a label: its colon counts as a comma here would.
      const at = source.indexOf(':', node.label.end);
      if (at >= 0) commas.push(at);
    }
    // `(0, f)(x)`, the indirect call compilers emit, is a comma operator on purpose.
    const indirect = node.type === 'SequenceExpression' && node.expressions.length === 2
      && node.expressions[0].type === 'Literal' && node.expressions[0].value === 0;
    if (node.type === 'SequenceExpression' && !indirect) {
      for (let i = 1; i < node.expressions.length; i += 1) {
        const at = source.indexOf(',', node.expressions[i - 1].end);
        if (at >= 0 && at < node.expressions[i].start) commas.push(at);
      }
    }
    for (const key of Object.keys(node)) {
      if (key === 'loc') continue;
      const child = node[key];
      if (Array.isArray(child)) for (const item of child) visit(item);
      else if (child && typeof child.type === 'string') visit(child);
    }
  };
  visit(ast);
  return commas;
}

function shape(request) {
  acorn = acorn || require('./vendor/acorn.js');
  let source = request.source;
  let shift = 0;
  if (source.charCodeAt(0) === 0xfeff) {
    source = source.slice(1);
    shift = 1;
  }
  const mode = modeFor(request.path);
  for (const sourceType of mode === 'module' ? ['module'] : ['commonjs', 'module']) {
    const asi = [];
    let ast;
    try {
      ast = acorn.parse(source, {
        ecmaVersion: 'latest', sourceType, allowHashBang: true,
        allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true,
        onInsertedSemicolon: (end) => asi.push(end + shift),
      });
    } catch {
      continue;
    }
    return { parsed: true, commas: sequenceCommas(source, ast).map((o) => o + shift), asi };
  }
  return { parsed: false, commas: [], asi: [] };
}

// Requests arrive in chunks that may hold many lines or a fraction of one (a large
// "source"); answers to a whole chunk leave in one write.
let pending = [];
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lastNewline = chunk.lastIndexOf('\n');
  if (lastNewline < 0) {
    pending.push(chunk);
    return;
  }
  pending.push(chunk.slice(0, lastNewline));
  const lines = pending.join('').split('\n');
  pending = [chunk.slice(lastNewline + 1)];
  let out = '';
  for (const line of lines) {
    if (line.trim() !== '') out += `${JSON.stringify(answer(line))}\n`;
  }
  if (out) process.stdout.write(out);
});
process.stdin.on('end', () => process.exit(0));
process.stdout.on('error', () => process.exit(0));

process.stdout.write(`${JSON.stringify({ ready: true, node: process.version })}\n`);
