//! The one place a panic becomes an error.
//!
//! Decoders and C libraries run on untrusted bytes: image-webp has panicked on a malformed file,
//! libjpeg and moxcms report fatal errors by unwinding. Such a panic is that image's failure,
//! reported once as its error, so [`quietly`] keeps the panic hook from printing it too. A panic
//! anywhere else is a bug in this program: [`caught`] still lets the hook print it, and costs
//! only the item it happened in. This module knows nothing of images or stages.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Set while a closure runs under [`quietly`], so the panic hook keeps its message to itself.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`; a panic becomes `Err(its message)`, and the panic hook prints nothing for it.
/// Panics anywhere else (other threads, outside `f`) still print.
pub fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
    let was = QUIET.with(|c| c.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|c| c.set(was));
    result.map_err(message)
}

/// Runs `f`; a panic (a bug: the hook has printed it) becomes `Err(its message)`.
pub fn caught<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(message)
}

fn message(payload: Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".to_string())
}

#[cfg(test)]
mod tests {
    use super::{caught, quietly};

    #[test]
    fn panics_become_their_message() {
        assert_eq!(quietly(|| 7), Ok(7));
        assert_eq!(
            quietly(|| -> u8 { panic!("bad chunk") }),
            Err("bad chunk".to_string())
        );
        let n = 3;
        assert_eq!(
            caught(|| -> u8 { panic!("bug {n}") }),
            Err("bug 3".to_string())
        );
    }
}
