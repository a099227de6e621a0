//! Pure drawing: functions of view state onto a frame, plus sanitising of remote
//! text before it can reach the terminal. Nothing here mutates state or does I/O.

pub mod placeholder;
pub mod sanitize;
