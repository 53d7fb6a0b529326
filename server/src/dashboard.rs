//! The managers dashboard (coming next).
