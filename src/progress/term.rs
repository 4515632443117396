//! stderr as the bars see it: two columns narrower than it is.
//!
//! indicatif pads each bar line to the terminal's full width so that stray output lands on the
//! next line. But the terminal's own echo of Ctrl-C (`^C`) then wraps below the bar, the next
//! redraw happens there, and the bar's last frame stays on the screen for good (the tmux test
//! saw it). With two columns to spare the echo stays on the bar's line, which every redraw
//! clears first.

use std::io;

use console::Term;
use indicatif::TermLike;

#[derive(Debug)]
pub struct Narrower(pub Term);

impl TermLike for Narrower {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(2).max(1)
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> io::Result<()> {
        self.0.flush()
    }
}
