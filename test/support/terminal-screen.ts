/**
 * A small terminal emulator for tests: plays back what a program wrote to a pseudo-terminal and
 * returns the lines left on screen (scrollback included, unbounded width), plus the private modes it
 * set (cursor visibility ?25, line wrap ?7). It knows the sequences cli-progress and readline emit:
 * CR/LF, cursor moves (A/B/C/D/G), erase in line (K) and in display (J), SGR (ignored), ESC 7/8.
 */
export interface Screen {
  readonly lines: string[];
  /** Private mode changes in order, e.g. ['?25l', '?25h']. */
  readonly modes: string[];
}

export function playTerminal(output: string): Screen {
  const lines: string[][] = [[]];
  const modes: string[] = [];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const line = (): string[] => (lines[row] ??= []);
  let i = 0;
  while (i < output.length) {
    const ch = output[i]!;
    if (ch === '\u001b') {
      const csi = /^\u001b\[([?]?)([0-9;]*)([A-Za-z])/.exec(output.slice(i, i + 32));
      if (csi) {
        const [all, priv, params, op] = csi;
        const n = Number(params?.split(';')[0] || 0);
        if (priv) modes.push(`?${params}${op}`);
        else if (op === 'A') row = Math.max(0, row - (n || 1));
        else if (op === 'B') row += n || 1;
        else if (op === 'C') col += n || 1;
        else if (op === 'D') col = Math.max(0, col - (n || 1));
        else if (op === 'G') col = Math.max(0, (n || 1) - 1);
        else if (op === 'K') {
          if (n === 0) line().length = Math.min(line().length, col);
          else if (n === 1) for (let c = 0; c <= col && c < line().length; c += 1) line()[c] = ' ';
          else lines[row] = [];
        } else if (op === 'J') {
          if (n === 0) {
            line().length = Math.min(line().length, col);
            lines.length = row + 1;
          } else lines.splice(0, lines.length, []);
        }
        // 'm' (colours) and anything else: no effect on the text.
        i += all!.length;
        continue;
      }
      if (output[i + 1] === '7') saved = { row, col };
      else if (output[i + 1] === '8') ({ row, col } = saved);
      i += 2;
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row += 1;
      line();
    } else {
      const cells = line();
      while (cells.length < col) cells.push(' ');
      cells[col] = ch;
      col += 1;
    }
    i += 1;
  }
  const text = Array.from({ length: lines.length }, (_, r) => (lines[r] ?? []).join('').trimEnd());
  while (text.length > 0 && text[text.length - 1] === '') text.pop();
  return { lines: text, modes };
}
