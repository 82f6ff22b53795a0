//! Agent sign-in, in one place: accounts (what ops and the local stack create), the password
//! check and token issue and verification every admin endpoint runs, the sign-in lockout, and
//! the signing keys across rotations. The table items they use live in `store::sign_in` and
//! `store::admins`.

pub mod accounts;
pub mod auth;
pub mod lockout;
pub mod signing_keys;
