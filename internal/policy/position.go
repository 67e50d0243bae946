package policy

import "unicode/utf8"

// Position is a place in a policy document's text. Line and Column are 1-based; columns count
// characters (a tab is one), and a line ends at "\n", "\r\n" or a lone "\r", as JSON parsers
// that report locations count them. Offset is the 0-based byte offset.
type Position struct {
	Line   int
	Column int
	Offset int
}

// PositionAt returns the position of byte offset off in the document's text; offsets outside
// the text are clamped to it. It scans the text up to off, so callers wanting many positions
// should use the Statements' Start and End, which Parse records in one pass.
func (d *Document) PositionAt(off int) Position {
	lc := lineCounter{text: d.text, line: 1}
	return lc.advance(off)
}

// lineCounter turns increasing byte offsets into positions in one pass over the text.
type lineCounter struct {
	text string
	off  int // bytes scanned so far
	line int // line of off
	col  int // characters between the start of the line and off
	cr   bool
}

// advance scans up to byte offset to and returns its position. Offsets asked for in
// increasing order cost one pass over the text; an earlier one starts again from the top.
func (lc *lineCounter) advance(to int) Position {
	to = max(0, min(to, len(lc.text)))
	if to < lc.off {
		*lc = lineCounter{text: lc.text, line: 1}
	}
	for ; lc.off < to; lc.off++ {
		switch c := lc.text[lc.off]; {
		case c == '\n':
			if !lc.cr {
				lc.line++
				lc.col = 0
			}
			lc.cr = false
		case c == '\r':
			lc.line++
			lc.col = 0
			lc.cr = true
		default:
			lc.cr = false
			if utf8.RuneStart(c) {
				lc.col++
			}
		}
	}
	return Position{Line: lc.line, Column: lc.col + 1, Offset: to}
}
