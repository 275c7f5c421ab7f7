//! The wire types against IM's documented examples (REFERENCE.md §1) and its codes.

mod callback;
mod conversions;
mod sendmsg;
