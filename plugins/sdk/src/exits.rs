//! Exits declared once, as a Rust enum: `describe` lists them from it and a step can
//! only leave by one of its variants, so an exit that is not declared does not compile.

use crate::ExitInfo;

/// A module's exits, declared with [`exits!`](crate::exits).
pub trait Exits: Copy {
    /// Every exit, in declaration order, with its description.
    fn all() -> Vec<ExitInfo>;
    /// The exit's name, as flows' edges use it.
    fn name(self) -> &'static str;
}

/// Declares a module's exits as an enum implementing [`Exits`]:
///
/// ```
/// kefu_flow_sdk::exits! {
///     /// Where the order-number node leaves.
///     pub enum Exit {
///         Next = "next": "The number is stored",
///         Timeout = "timeout": "The user did not answer",
///     }
/// }
/// use kefu_flow_sdk::Exits;
/// assert_eq!(Exit::Timeout.name(), "timeout");
/// assert_eq!(Exit::all().len(), 2);
/// ```
///
/// Then `ModuleInfo::exits::<Exit>()` lists them and `Output::leave(Exit::Next)` leaves.
#[macro_export]
macro_rules! exits {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($variant:ident = $exit:literal : $description:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $(#[doc = $description] $variant),+
        }

        impl $crate::Exits for $name {
            fn all() -> ::std::vec::Vec<$crate::ExitInfo> {
                ::std::vec![$($crate::ExitInfo {
                    name: $exit.to_owned(),
                    description: $description.to_owned(),
                }),+]
            }

            fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $exit),+
                }
            }
        }
    };
}
