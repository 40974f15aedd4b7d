/**
 * The job log parser of the dashboard (src/web/client/log-parse.ts): gitlab-runner's section
 * markers anywhere in a line, carriage returns, options, and lines that only carry markers —
 * as the runners in shared/spec/wire-v4.md write them.
 */
import { describe, expect, test } from 'bun:test';
import { parseLine, type LogOp } from '../../src/web/client/log-parse';

const show = (ops: LogOp[]) => ops.map((o) => (o.op === 'line' ? `line ${o.n}${o.first ? '' : '+'}: ${JSON.stringify(o.text)}`
  : o.op === 'state' ? `state ${JSON.stringify(o.text)}` : o.op === 'start' ? `start ${o.name}@${o.ts}${o.collapsed ? ' collapsed' : ''}` : `end ${o.name}@${o.ts}`));

describe('log lines → what the viewer draws', () => {
  const cases: [string, string, string[]][] = [
    ['a plain line', 'hello', ['line 1: "hello"']],
    ['an empty line is drawn', '', ['line 1: ""']],
    ['colours stay in the text (ansi_up draws them)', '\x1b[32;1m$ make\x1b[0;m', ['line 1: "\\u001b[32;1m$ make\\u001b[0;m"']],
    ['a section start, then its header on the same line', 'section_start:1795312900:prepare_executor\r\x1b[0K\x1b[0KUsing Shell executor...',
      ['start prepare_executor@1795312900', 'line 1: "\\u001b[0KUsing Shell executor..."']],
    ['end and start in one line (wire-v4.md), a reset before it is only state',
      '\x1b[0;msection_end:1795312900:prepare_executor\r\x1b[0Ksection_start:1795312900:prepare_script\r\x1b[0KRunning on vm...',
      ['state "\\u001b[0;m"', 'end prepare_executor@1795312900', 'start prepare_script@1795312900', 'line 1: "Running on vm..."']],
    ['a line of markers only draws nothing',
      'section_end:1795312901:get_sources\r\x1b[0Ksection_start:1795312901:restore_cache\r\x1b[0Ksection_end:1795312901:restore_cache\r\x1b[0K',
      ['end get_sources@1795312901', 'start restore_cache@1795312901', 'end restore_cache@1795312901']],
    ['text before a marker is its own line', 'tick 3section_end:1795312911:build_script\r\x1b[0K\x1b[32;1mJob succeeded',
      ['line 1: "tick 3"', 'end build_script@1795312911', 'line 1+: "\\u001b[32;1mJob succeeded"']],
    ['[collapsed=true] folds the section', 'section_start:1700000000:deps[collapsed=true]\r\x1b[0KInstalling', ['start deps@1700000000 collapsed', 'line 1: "Installing"']],
    ['other options do not fold', 'section_start:1700000000:deps[hide_duration=true]\r\x1b[0KInstalling', ['start deps@1700000000', 'line 1: "Installing"']],
    ['a progress bar shows its last state; its colour codes still count', '\x1b[33m10%\r20%\r\x1b[1m30%', ['state "\\u001b[33m"', 'line 1: "\\u001b[1m30%"']],
    ['CRLF line ends change nothing', 'windows line\r', ['line 1: "windows line"']],
    ['without \\r it is not a marker', 'echo section_start:1:x', ['line 1: "echo section_start:1:x"']],
  ];
  test.each(cases)('%s', (_, raw, expected) => {
    expect(show(parseLine(raw, 1))).toEqual(expected);
  });
});
