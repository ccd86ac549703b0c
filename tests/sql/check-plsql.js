#!/usr/bin/env node
// Syntax check of the Oracle scripts with a real PL/SQL grammar (the PlSqlParser of the npm
// package antlr4ts-sql 1.1.0, ANTLR grammars-v4), since no Oracle database runs here.
//
//   node check-plsql.js syntax FILE_OR_DIR...     every .sql/.pks/.pkb: 0 = no syntax error
//   node check-plsql.js selftest DIR              DIR/good/* must pass, DIR/bad/* must fail
//   node check-plsql.js interface SPEC.pks        the seed package's interface is kept, and
//                                                 open_client/close_client are declared
//   node check-plsql.js guard BODY.pkb            configure refuses everyone but the owner
//   node check-plsql.js guard-selftest DIR        DIR/good_* pass the guard check, DIR/bad_* fail
//
// Files are read the way SQL*Plus (or SQLcl) runs them: at the start of a statement, SQL*Plus
// commands (set, prompt, whenever, @, @@, define, spool, show, exit, rem, exec ...) are theirs
// and are not SQL; a PL/SQL unit (declare/begin blocks, create package/procedure/function/
// trigger/type) runs up to a line holding only "/"; any other SQL statement up to a ";"
// outside literals and comments (or a "/" line). Each statement is parsed on its own, at its
// line in the file, so an error is reported where it is. `exec X` is parsed as the block
// `begin X; end;` that SQL*Plus sends. A PL/SQL unit with no "/" after it is an error too:
// SQL*Plus would never run it.
//
// The grammar refuses three valid forms, so the package avoids them: PRAGMA EXCEPTION_INIT
// among a package body's own declarations, conditional compilation ($IF) and the IS JSON
// condition. The selftest shows that each of them, and ordinary mistakes, are reported.
'use strict';

const fs = require('fs');
const path = require('path');

const EXTENSIONS = new Set(['.sql', '.pks', '.pkb']);

// SQL*Plus commands recognised at the start of a statement (abbreviations included).
const SQLPLUS_COMMAND =
    /^(@@?|!|(start|sta|set|prompt|pro|whenever|define|def|undefine|undef|spool|spo|show|sho|exit|quit|rem|remark|column|col|timing|timi|host|ho|variable|var|print|pri|connect|conn|disconnect|disc|accept|acc|pause|pau|ttitle|tti|btitle|bti|break|bre|compute|comp|clear|cl|describe|desc|store|sto|repheader|repfooter|archive|recover|startup|shutdown|password|passw|attribute|attr|copy|get|save|list|l|run|r|edit|ed|input|i|append|change|del|help|history|hist|sqlblanklines|xquery|whenever)(\s|$|;))/i;
// ...except these, which are SQL statements that begin like a SQL*Plus command.
const SQL_THAT_LOOKS_LIKE_SQLPLUS = /^set\s+(transaction|role|constraints?)\b/i;
const EXEC_COMMAND = /^exec(ute)?\s+(.*)$/i;
const PLSQL_UNIT =
    /^(declare|begin|<<|create\s+(or\s+replace\s+)?((editionable|noneditionable)\s+)?(package|procedure|function|trigger|type|library|java)\b)/i;

// Splits a script into statements: [{line, text, kind}] (line is 1-based), plus problems found
// while splitting ([{line, message}]).
function splitScript(source) {
    const lines = source.replace(/\r\n?/g, '\n').split('\n');
    const statements = [];
    const problems = [];
    let i = 0;
    while (i < lines.length) {
        const raw = lines[i];
        const line = raw.trim();
        if (line === '' || line === '/') { // blank, or "run the buffer again"
            i++;
            continue;
        }
        if (line.startsWith('--')) {
            i++;
            continue;
        }
        if (line.startsWith('/*')) { // a comment before a statement
            let j = i;
            while (j < lines.length && !lines[j].includes('*/', j === i ? lines[i].indexOf('/*') + 2 : 0))
                j++;
            if (j >= lines.length)
                problems.push({ line: i + 1, message: 'comment /* is never closed' });
            i = j + 1;
            continue;
        }
        const exec = EXEC_COMMAND.exec(line);
        if (exec) {
            let body = exec[2];
            let j = i;
            while (body.endsWith('-') && j + 1 < lines.length) { // SQL*Plus continuation
                body = body.slice(0, -1) + ' ' + lines[++j].trim();
            }
            body = body.replace(/;\s*$/, '');
            statements.push({ line: i + 1, text: 'begin ' + body + '; end;', kind: 'exec' });
            i = j + 1;
            continue;
        }
        if (SQLPLUS_COMMAND.test(line) && !SQL_THAT_LOOKS_LIKE_SQLPLUS.test(line)) {
            let j = i;
            while (lines[j].trimEnd().endsWith('-') && j + 1 < lines.length)
                j++;
            i = j + 1;
            continue;
        }
        if (PLSQL_UNIT.test(line)) {
            // Up to the "/" line, as SQL*Plus does (it looks at no literal for that).
            let j = i;
            while (j < lines.length && lines[j].trim() !== '/')
                j++;
            if (j >= lines.length) {
                problems.push({
                    line: i + 1,
                    message: 'this PL/SQL unit has no "/" line after it: SQL*Plus would not run it',
                });
            }
            statements.push({ line: i + 1, text: lines.slice(i, j).join('\n'), kind: 'plsql' });
            i = j + 1;
            continue;
        }
        // A SQL statement: up to ";" outside literals and comments, or a "/" line.
        const end = findSqlEnd(lines, i);
        if (end.line < 0) {
            problems.push({ line: i + 1, message: 'this SQL statement has no ";" or "/" after it' });
            statements.push({ line: i + 1, text: lines.slice(i).join('\n'), kind: 'sql' });
            break;
        }
        let text;
        if (end.slash) {
            text = lines.slice(i, end.line).join('\n');
        } else {
            text = lines.slice(i, end.line).concat([lines[end.line].slice(0, end.column + 1)]).join('\n');
        }
        statements.push({ line: i + 1, text, kind: 'sql' });
        i = end.line + 1;
    }
    return { statements, problems };
}

// Where the SQL statement starting at lines[start] ends: {line, column} of its ";", or
// {line, slash: true} for a "/" line; line -1 when it never ends.
function findSqlEnd(lines, start) {
    let state = 'code'; // code, string, qstring, ident, block
    let qClose = '';
    for (let l = start; l < lines.length; l++) {
        const s = lines[l];
        if (l > start && state === 'code' && s.trim() === '/')
            return { line: l, slash: true };
        for (let c = 0; c < s.length; c++) {
            const ch = s[c];
            const next = s[c + 1];
            if (state === 'code') {
                if (ch === '-' && next === '-')
                    break; // the rest of the line is a comment
                if (ch === '/' && next === '*') {
                    state = 'block';
                    c++;
                } else if ((ch === 'q' || ch === 'Q') && next === "'" && c + 2 < s.length) {
                    const open = s[c + 2];
                    qClose = { '[': ']', '(': ')', '{': '}', '<': '>' }[open] || open;
                    state = 'qstring';
                    c += 2;
                } else if (ch === "'") {
                    state = 'string';
                } else if (ch === '"') {
                    state = 'ident';
                } else if (ch === ';') {
                    return { line: l, column: c };
                }
            } else if (state === 'string') {
                if (ch === "'" && next === "'")
                    c++;
                else if (ch === "'")
                    state = 'code';
            } else if (state === 'qstring') {
                if (ch === qClose && next === "'") {
                    state = 'code';
                    c++;
                }
            } else if (state === 'ident') {
                if (ch === '"')
                    state = 'code';
            } else if (state === 'block') {
                if (ch === '*' && next === '/') {
                    state = 'code';
                    c++;
                }
            }
        }
    }
    return { line: -1 };
}

// Parses one statement; returns [{line, column, message}] with lines of the file.
function parseStatement(statement) {
    const errors = [];
    const listener = {
        syntaxError: (recognizer, offending, line, column, message) => {
            // The token as written (the case-folding stream shows token numbers instead).
            const written = offending && offending.startIndex >= 0 && offending.stopIndex >= offending.startIndex
                ? statement.text.slice(offending.startIndex, offending.stopIndex + 1) : '';
            const near = written ? ` near "${written.slice(0, 40)}"` : '';
            // ANTLR lists every token it expected: keep the sentence short.
            const short = message.replace(/ expecting \{[^}]*\}/, '')
                .replace(/'<\d+>'/g, 'token')
                .slice(0, 200);
            errors.push({ line: line + statement.line - 1, column, message: short + near });
        },
    };
    // Loaded here: the interface check needs no parser (and loading it takes seconds).
    const { antlr4tsSQL, SQLDialect } = require('antlr4ts-sql');
    const sql = new antlr4tsSQL(SQLDialect.PLSQL);
    const tokens = sql.getTokens(statement.text, [listener]);
    const parser = sql.getParser(tokens, [listener]);
    sql.getParseTree(parser);
    return errors;
}

function checkFile(file) {
    const source = fs.readFileSync(file, 'utf8');
    const { statements, problems } = splitScript(source);
    const errors = problems.map((p) => ({ line: p.line, column: 0, message: p.message }));
    for (const statement of statements)
        errors.push(...parseStatement(statement));
    errors.sort((a, b) => a.line - b.line || a.column - b.column);
    return { statements: statements.length, errors };
}

function listFiles(args) {
    const files = [];
    for (const arg of args) {
        const stat = fs.statSync(arg);
        if (stat.isDirectory()) {
            for (const name of fs.readdirSync(arg).sort()) {
                if (EXTENSIONS.has(path.extname(name).toLowerCase()))
                    files.push(path.join(arg, name));
            }
        } else {
            files.push(arg);
        }
    }
    return files;
}

function syntax(args) {
    const files = listFiles(args);
    if (files.length === 0) {
        console.log('no .sql, .pks or .pkb file found in ' + args.join(' '));
        return 1;
    }
    let failed = 0;
    let passed = 0;
    for (const file of files) {
        const { statements, errors } = checkFile(file);
        if (statements === 0) {
            console.log(`FAIL ${file}: no statement found`);
            failed++;
            continue;
        }
        if (errors.length) {
            failed++;
            console.log(`FAIL ${file}: ${errors.length} syntax error(s)`);
            for (const e of errors)
                console.log(`  ${file}:${e.line}:${e.column}: ${e.message}`);
        } else {
            passed++;
            console.log(`ok   ${file} (${statements} statements)`);
        }
    }
    console.log(`${passed} passed, ${failed} failed`);
    return failed ? 1 : 0;
}

// DIR/good/*: no error. DIR/bad/*: at least one error, on the line named by a comment
// "-- expect error at line N" in the file when there is one.
function selftest(args) {
    const dir = args[0];
    let passed = 0;
    let failed = 0;
    for (const kind of ['good', 'bad']) {
        const files = listFiles([path.join(dir, kind)]);
        if (files.length === 0) {
            console.log(`FAIL no ${kind} fixtures in ${path.join(dir, kind)}`);
            failed++;
        }
        for (const file of files) {
            const { statements, errors } = checkFile(file);
            let ok;
            let why;
            if (kind === 'good') {
                ok = errors.length === 0 && statements > 0;
                why = errors.length ? `reported ${errors.map((e) => `${e.line}: ${e.message}`).join('; ')}`
                                    : 'no statement found';
            } else {
                const expect = /--\s*expect error at line (\d+)/i.exec(fs.readFileSync(file, 'utf8'));
                const line = expect ? Number(expect[1]) : null;
                ok = errors.length > 0 && (line === null || errors.some((e) => e.line === line));
                why = errors.length === 0 ? 'no error reported'
                    : `errors at ${errors.map((e) => e.line).join(', ')}, expected one at ${line}`;
            }
            if (ok) {
                passed++;
                const first = errors[0];
                console.log(`ok   ${kind}/${path.basename(file)}`
                    + (first ? ` (reported at line ${first.line}: ${first.message})` : ''));
            } else {
                failed++;
                console.log(`FAIL ${kind}/${path.basename(file)}: ${why}`);
            }
        }
    }
    console.log(`${passed} passed, ${failed} failed`);
    return failed ? 1 : 0;
}

// The seed package's interface (docs/oracle.md, "Oracle: `websocket_pkg`"), compared without comments,
// case or layout.
const SEED_INTERFACE = [
    'subtype t_room is varchar2(4000);',
    'subtype t_event is varchar2(130);',
    "c_prefix constant varchar2(20) := 'websocket:';",
    "c_separator constant varchar2(1) := ':';",
    "c_message constant t_event := c_prefix || c_separator || 'message';",
    "c_refresh constant t_event := c_prefix || c_separator || 'refresh';",
    'procedure register (p_room in t_room, p_user_name in varchar2, p_session_id in varchar2, p_token out t_token);',
    'procedure unregister (p_room in t_room, p_user_name in varchar2, p_session_id in varchar2);',
    'procedure emit_to_user (p_user_name in varchar2, p_event in t_event, p_data in clob default null);',
    'procedure emit_to_room (p_room in varchar2, p_event in t_event, p_data in clob default null);',
    'procedure emit_to_all (p_event in t_event, p_data in clob default null);',
    'procedure configure (p_base_url in varchar2, p_api_key in varchar2, p_wallet_path in varchar2 default null,',
];
// Added to the seed's interface, kept as they are documented (docs/endpoints.md, "From the
// database"): the outbound clients of POST and DELETE /api/clients.
const ADDED_INTERFACE = [
    'function open_client (p_uri in varchar2, p_room in varchar2, p_event in varchar2) return varchar2;',
    'procedure close_client (p_id in varchar2);',
];
// t_token: as the seed (4000) or widened to 32767.
const TOKEN_TYPES = ['subtype t_token is varchar2(4000);', 'subtype t_token is varchar2(32767);'];

function normalize(text) {
    let out = '';
    let state = 'code';
    for (let c = 0; c < text.length; c++) {
        const ch = text[c];
        const next = text[c + 1];
        if (state === 'code') {
            if (ch === '-' && next === '-') {
                while (c < text.length && text[c] !== '\n')
                    c++;
                out += ' ';
            } else if (ch === '/' && next === '*') {
                const end = text.indexOf('*/', c + 2);
                c = end < 0 ? text.length : end + 1;
                out += ' ';
            } else if (ch === "'") {
                state = 'string';
                out += ch;
            } else {
                out += ch.toLowerCase();
            }
        } else {
            out += ch;
            if (ch === "'")
                state = 'code';
        }
    }
    return out.replace(/\s+/g, ' ')
        .replace(/\s*([(),;])\s*/g, '$1')
        .replace(/\(/g, ' (')
        .trim();
}

function iface(args) {
    const spec = normalize(fs.readFileSync(args[0], 'utf8'));
    let passed = 0;
    let failed = 0;
    const check = (ok, what) => {
        if (ok) {
            passed++;
            console.log(`ok   ${what}`);
        } else {
            failed++;
            console.log(`FAIL ${what} is not in ${args[0]}`);
        }
    };
    for (const declaration of SEED_INTERFACE.concat(ADDED_INTERFACE))
        check(spec.includes(normalize(declaration)), declaration);
    check(TOKEN_TYPES.some((t) => spec.includes(normalize(t))), TOKEN_TYPES.join(' or '));
    console.log(`${passed} passed, ${failed} failed`);
    return failed ? 1 : 0;
}

// What the grammar cannot run, read from the text (docs/oracle.md, "3. Configure"): in the
// package body, configure calls require_owner('configure') as its first statement, before
// anything is stored; require_owner compares SESSION_USER with CURRENT_USER (the owner, in a
// definer's rights package) and raises ORA-20006; and the settings table websocket_config is
// written nowhere but in configure, after that call. This checks the text, not a run: whether
// Oracle really refuses a grantee is for a real database (no Oracle runs here).
function guardProblems(text) {
    const body = normalize(text).replace(/ \(/g, '('); // "f (x)" is "f(x)" here
    const problems = [];
    // Top-level units of the body: "procedure name (" / "function name (" (the package has no
    // nested ones) with where each starts.
    const units = [];
    const unitRe = /(^|[ ;])(procedure|function) ([a-z0-9_$#]+)[( ]/g;
    for (let m; (m = unitRe.exec(body));)
        units.push({ name: m[3], at: m.index + m[1].length });
    const unitAt = (pos) => units.filter((u) => u.at <= pos).pop();
    const unitText = (name) => {
        const i = units.findIndex((u) => u.name === name);
        if (i < 0)
            return null;
        return body.slice(units[i].at, i + 1 < units.length ? units[i + 1].at : body.length);
    };

    const guard = unitText('require_owner');
    if (!guard) {
        problems.push('there is no procedure require_owner');
    } else {
        if (!/sys_context\('userenv','session_user'\)/i.test(guard))
            problems.push("require_owner does not read sys_context('USERENV', 'SESSION_USER')");
        if (!/sys_context\('userenv','current_user'\)/i.test(guard))
            problems.push("require_owner does not read sys_context('USERENV', 'CURRENT_USER')");
        if (!/raise_application_error\(-20006/.test(guard))
            problems.push('require_owner does not raise ORA-20006');
    }
    const configure = unitText('configure');
    let guardAt = -1;
    if (!configure) {
        problems.push('there is no procedure configure');
    } else {
        // The first statement after the unit's own "begin" (its declarations hold no block).
        const found = /[ ;)]begin /.exec(configure);
        const begin = found ? found.index + found[0].length : -1;
        const first = begin < 0 ? '' : configure.slice(begin).split(';')[0].trim();
        if (first !== "require_owner('configure')")
            problems.push(`configure's first statement is "${first.slice(0, 80)}", not require_owner('configure')`);
        else
            guardAt = units.find((u) => u.name === 'configure').at + begin;
    }
    const writes = /(merge into|insert into|update|delete from|delete|truncate table) websocket_config\b/g;
    for (let m; (m = writes.exec(body));) {
        const unit = unitAt(m.index);
        const where = unit ? unit.name : 'the package body';
        if (!unit || unit.name !== 'configure' || guardAt < 0 || m.index < guardAt)
            problems.push(`"${m[0]}" in ${where} is not behind require_owner in configure`);
    }
    return problems;
}

function guard(args) {
    const problems = guardProblems(fs.readFileSync(args[0], 'utf8'));
    for (const p of problems)
        console.log(`FAIL ${args[0]}: ${p}`);
    if (problems.length === 0)
        console.log(`ok   ${args[0]}: configure refuses everyone but the owner before it stores anything`);
    return problems.length ? 1 : 0;
}

function guardSelftest(args) {
    const dir = args[0];
    let passed = 0;
    let failed = 0;
    const files = fs.readdirSync(dir).filter((f) => /^(good|bad)_.*\.pkb$/.test(f)).sort();
    if (!files.some((f) => f.startsWith('good_')) || !files.some((f) => f.startsWith('bad_'))) {
        console.log(`FAIL ${dir} needs good_*.pkb and bad_*.pkb fixtures`);
        return 1;
    }
    for (const file of files) {
        const problems = guardProblems(fs.readFileSync(path.join(dir, file), 'utf8'));
        const ok = file.startsWith('good_') ? problems.length === 0 : problems.length > 0;
        if (ok) {
            passed++;
            console.log(`ok   ${file}` + (problems.length ? ` (reported: ${problems[0]})` : ''));
        } else {
            failed++;
            console.log(`FAIL ${file}: ` + (problems.length ? problems.join('; ') : 'no problem reported'));
        }
    }
    console.log(`${passed} passed, ${failed} failed`);
    return failed ? 1 : 0;
}

function main(argv) {
    const [command, ...args] = argv;
    if (command === 'syntax' && args.length)
        return syntax(args);
    if (command === 'selftest' && args.length === 1)
        return selftest(args);
    if (command === 'interface' && args.length === 1)
        return iface(args);
    if (command === 'guard' && args.length === 1)
        return guard(args);
    if (command === 'guard-selftest' && args.length === 1)
        return guardSelftest(args);
    console.error('usage: check-plsql.js syntax FILE_OR_DIR... | selftest DIR | interface SPEC.pks'
        + ' | guard BODY.pkb | guard-selftest DIR');
    return 2;
}

if (require.main === module)
    process.exitCode = main(process.argv.slice(2));

module.exports = { splitScript, checkFile, normalize, guardProblems };
