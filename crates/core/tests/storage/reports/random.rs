//! Random networks built through the store's API, reproducible from a seed:
//! municipalities in several countries, two groups with workshops, then a
//! random sequence of content writes ([`super::writes`]).

use chrono::NaiveDate;
use peerlab_core::auth::Principal;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::Store;
use peerlab_testkit::{coordinator, staff};

/// xorshift64: small, deterministic, good enough to shuffle test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const COUNTRIES: [&str; 7] = ["AL", "BA", "GE", "MD", "MK", "RS", "UA"];
pub const THEMES: [&str; 6] = ["digitalisation", "e-services", "mobility", "archives", "literacy", "energy"];
pub const DAY: i64 = 86_400_000_000;

pub fn t(s: &str) -> Title {
    Title::parse("title", s).expect("title")
}
pub fn d() -> Description {
    Description::parse("description", "").expect("description")
}

/// What was built, with the latest state of every item.
pub struct Net {
    pub countries: Vec<CountryCode>,
    pub groups: Vec<(WorkingGroupId, Vec<(MunicipalityId, CountryCode)>)>,
    pub challenges: Vec<Challenge>,
    pub initiatives: Vec<Initiative>,
    pub ideas: Vec<ProjectIdea>,
    pub recs: Vec<Recommendation>,
}

pub fn as_staff(m: MunicipalityId, c: CountryCode) -> Principal {
    staff(c.as_str(), m)
}

/// A random network of 4–6 countries; `steps` random content writes.
pub async fn build(s: &Store, rng: &mut Rng, steps: usize) -> Net {
    let co = coordinator();
    let mut countries: Vec<CountryCode> = COUNTRIES.iter().map(|c| CountryCode::parse(c).expect("cc")).collect();
    while countries.len() > 4 + rng.below(3) {
        countries.remove(rng.below(countries.len()));
    }
    let mut munis = Vec::new();
    for c in &countries {
        for i in 0..2 + rng.below(3) {
            let input = NewMunicipality { display_name: t(&format!("{c} town {i}")), country: *c };
            munis.push((s.create_municipality(&co, input, None).await.expect("municipality").id, *c));
        }
    }
    let mut groups = Vec::new();
    for (name, percent) in [("Digitalisation", 85), ("Mobility", 50)] {
        let input = NewWorkingGroup {
            display_name: t(name),
            description: d(),
            themes: Vec::new(),
            start_date: NaiveDate::from_ymd_opt(2021, 1, 1).expect("date"),
            end_date: NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
        };
        let g = s.create_working_group(&co, input, None).await.expect("group").id;
        let mut members = Vec::new();
        for (i, (m, c)) in munis.iter().enumerate() {
            if i < 2 || i == munis.len() - 1 || rng.chance(percent) {
                s.create_membership(&co, g, *m, None).await.expect("membership");
                members.push((*m, *c));
            }
        }
        for w in 0..3 {
            let attendees: Vec<MunicipalityId> = members.iter().filter(|_| rng.chance(60)).map(|(m, _)| *m).collect();
            let input = NewWorkshop {
                display_name: t(&format!("Workshop {w}")),
                phase: WorkshopPhase::Ideation,
                date: NaiveDate::from_ymd_opt(2023, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32).expect("date"),
                duration_minutes: 120,
                attendees,
            };
            let ws = s.create_workshop(&co, g, input, None).await.expect("workshop");
            if w == 2 {
                s.archive_workshop(&co, g, ws.id, None).await.expect("archive workshop");
            }
        }
        groups.push((g, members));
    }
    let mut net = Net { countries, groups, challenges: vec![], initiatives: vec![], ideas: vec![], recs: vec![] };
    for _ in 0..steps {
        super::writes::step(s, rng, &mut net).await;
    }
    net
}
