//! sea-orm entities, one per table. Private to the store: the rest of the
//! crate and the service see only the domain records of [`crate::model`].

pub mod challenge;
pub mod challenge_theme;
pub mod event;
pub mod initiative;
pub mod initiative_challenge;
pub mod membership;
pub mod municipality;
pub mod project_idea;
pub mod project_idea_challenge;
pub mod project_idea_initiative;
pub mod project_idea_partner;
pub mod recommendation;
pub mod request_id;
pub mod working_group;
pub mod workshop;
pub mod workshop_attendee;
