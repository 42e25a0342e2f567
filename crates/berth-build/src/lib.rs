//! Everything about a build that does not run containers: the Dockerfile [`parser`], typed
//! [`instructions`] and [`stages`](instructions::parse_stages), Docker's word expansion
//! ([`shell::Lex`]), build-argument scoping ([`args::BuildArgs`]), `.dockerignore` matching
//! ([`ignore::IgnoreMatcher`]), build contexts with Docker's content hashes ([`context`]), and
//! the step-by-step state machine of Docker's classic builder ([`builder::Builder`]), which asks a
//! [`builder::Backend`] (the engine) to create images, run steps and look up the cache; what it
//! refuses or cannot find is a typed [`refusal::Refusal`] or [`refusal::Missing`].
#![warn(missing_docs)]

pub mod args;
pub mod builder;
pub mod context;
pub mod ignore;
pub mod instructions;
pub mod parser;
pub mod refusal;
pub mod shell;
