//! Update masks built from the flags a person gave.

use crate::failure::CliError;

/// A partial resource and the field mask naming what was set on it.
#[derive(Debug, Default)]
pub struct Patch<T> {
    /// The resource with the changed fields set.
    pub resource: T,
    /// The `update_mask` paths, in the order the fields were considered.
    pub mask: Vec<&'static str>,
}

impl<T: Default> Patch<T> {
    /// An empty patch.
    pub fn new() -> Self {
        Patch { resource: T::default(), mask: Vec::new() }
    }

    /// Set `path` to `value` when the flag was given.
    pub fn set<V>(&mut self, path: &'static str, value: Option<V>, field: impl FnOnce(&mut T) -> &mut V) {
        if let Some(value) = value {
            *field(&mut self.resource) = value;
            self.mask.push(path);
        }
    }

    /// Replace the list `path` when its repeated flag was given at least once;
    /// a single empty value (`--theme ''`) clears it.
    pub fn set_list(
        &mut self,
        path: &'static str,
        values: Vec<String>,
        field: impl FnOnce(&mut T) -> &mut Vec<String>,
    ) {
        if !values.is_empty() {
            *field(&mut self.resource) = values.into_iter().filter(|v| !v.is_empty()).collect();
            self.mask.push(path);
        }
    }

    /// The patch, or a usage error naming the flags that would change something.
    pub fn finish(self, flags: &str) -> Result<Self, CliError> {
        if self.mask.is_empty() {
            return Err(CliError::Usage(format!("nothing to update: give at least one of {flags}")));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use peerlab_client::pb;

    use crate::args::{Cli, Command};
    use crate::content::ChallengeVerb;
    use crate::groups::WorkshopVerb;

    fn parse(line: &str) -> Command {
        let words = std::iter::once("peerlab-cli").chain(line.split_whitespace());
        match Cli::try_parse_from(words) {
            Ok(cli) => cli.command,
            Err(e) => panic!("{line}: {e}"),
        }
    }

    fn challenge_patch(line: &str) -> Result<(pb::Challenge, Vec<&'static str>), String> {
        let Command::Challenges(ChallengeVerb::Update(update)) = parse(line) else { panic!("not an update: {line}") };
        update.patch().map(|p| (p.resource, p.mask)).map_err(|e| e.to_string())
    }

    #[test]
    fn the_mask_names_exactly_the_flags_given() {
        let (challenge, mask) = challenge_patch(
            "challenges update municipalities/1/challenges/2 --title T --theme a --theme b --status addressed",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mask, ["title", "themes", "status"]);
        assert_eq!(challenge.title, "T");
        assert_eq!(challenge.themes, ["a", "b"]);
        assert_eq!(challenge.status, pb::ChallengeStatus::Addressed as i32);
        assert_eq!(challenge.description, "", "fields not named stay default");
    }

    #[test]
    fn an_empty_repeated_value_clears_the_list() {
        let (challenge, mask) = challenge_patch("challenges update municipalities/1/challenges/2 --theme=")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mask, ["themes"]);
        assert!(challenge.themes.is_empty());
    }

    #[test]
    fn an_update_without_changes_is_a_usage_error() {
        let err =
            challenge_patch("challenges update municipalities/1/challenges/2 --etag e1").err().unwrap_or_default();
        assert!(err.starts_with("nothing to update: give at least one of --title"), "{err}");
    }

    #[test]
    fn enum_and_date_flags_land_in_the_mask_too() {
        let Command::Workshops(WorkshopVerb::Update(update)) = parse(
            "workshops update workingGroups/1/workshops/2 --date 2021-10-05 --phase kick-off --attendee municipalities/3",
        ) else {
            panic!("not a workshop update")
        };
        let patch = update.patch().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(patch.mask, ["phase", "date", "attendees"]);
        assert_eq!(patch.resource.phase, pb::WorkshopPhase::KickOff as i32);
        assert_eq!(patch.resource.date.map(|d| (d.year, d.month, d.day)), Some((2021, 10, 5)));
    }
}
