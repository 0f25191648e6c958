//! The demo network, drawn from the articles peerlab grew from: the GIZ /
//! Connective Cities Digitalisation Working Group (19 municipalities from
//! seven countries, kick-off on 2021-09-21, four four-hour workshops) and a
//! UNDP public-sector innovation policy lab in Bosnia and Herzegovina.

/// (key, name, country)
pub const MUNICIPALITIES: &[(&str, &str, &str)] = &[
    ("tirana", "Tirana", "AL"),
    ("elbasan", "Elbasan", "AL"),
    ("shkoder", "Shkodër", "AL"),
    ("mostar", "Mostar", "BA"),
    ("tuzla", "Tuzla", "BA"),
    ("zenica", "Zenica", "BA"),
    ("kutaisi", "Kutaisi", "GE"),
    ("rustavi", "Rustavi", "GE"),
    ("batumi", "Batumi", "GE"),
    ("chisinau", "Chișinău", "MD"),
    ("balti", "Bălți", "MD"),
    ("cahul", "Cahul", "MD"),
    ("skopje", "Skopje", "MK"),
    ("bitola", "Bitola", "MK"),
    ("kumanovo", "Kumanovo", "MK"),
    ("nis", "Niš", "RS"),
    ("kragujevac", "Kragujevac", "RS"),
    ("lviv", "Lviv", "UA"),
    ("mykolaiv", "Mykolaiv", "UA"),
    ("sarajevo", "Sarajevo", "BA"),
    ("banja-luka", "Banja Luka", "BA"),
];

/// A working group: (key, name, description, themes, start, end, members, workshops).
pub type GroupRow<'a> = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
    &'a [&'static str],
    &'static [WorkshopRow],
);

/// The policy lab's members (the Digitalisation group has the first 19).
pub const LAB_MEMBERS: &[&str] = &["sarajevo", "banja-luka", "mostar", "tuzla", "zenica"];

/// (phase, title, date, minutes, attending municipality keys; empty = all members)
pub type WorkshopRow = (&'static str, &'static str, &'static str, i64, &'static [&'static str]);

/// The Digitalisation group's series.
pub const DIGITALISATION_WORKSHOPS: &[WorkshopRow] = &[
    ("kick_off", "Kick-off", "2021-09-21", 180, &[]),
    ("ideation", "Workshop I: Ideation", "2021-09-28", 240, &[]),
    (
        "consolidation",
        "Workshop II: Consolidation",
        "2021-10-07",
        240,
        &[
            "tirana",
            "elbasan",
            "mostar",
            "tuzla",
            "kutaisi",
            "rustavi",
            "chisinau",
            "balti",
            "skopje",
            "bitola",
            "nis",
            "kragujevac",
            "lviv",
        ],
    ),
    (
        "solutions",
        "Workshop III: Solutions",
        "2021-10-19",
        240,
        &[
            "elbasan", "shkoder", "tuzla", "zenica", "rustavi", "batumi", "chisinau", "cahul", "bitola", "kumanovo",
            "nis", "lviv", "mykolaiv",
        ],
    ),
    (
        "opportunities",
        "Workshop IV: Opportunities",
        "2021-10-28",
        240,
        &[
            "tirana",
            "elbasan",
            "mostar",
            "tuzla",
            "kutaisi",
            "balti",
            "skopje",
            "nis",
            "kragujevac",
            "lviv",
            "mykolaiv",
        ],
    ),
];

/// The policy lab's sessions.
pub const LAB_WORKSHOPS: &[WorkshopRow] = &[
    ("ideation", "Public Sector Innovation Training", "2022-03-21", 480, &[]),
    ("solutions", "Policy Lab", "2022-03-24", 480, &["sarajevo", "mostar", "tuzla"]),
];

/// (key, group ("dig" or "lab"), owner, title, themes, draft, status)
pub type ChallengeRow =
    (&'static str, &'static str, &'static str, &'static str, &'static [&'static str], bool, &'static str);

/// The challenges the article names, and others in the same spirit.
pub const CHALLENGES: &[ChallengeRow] = &[
    ("software", "dig", "kutaisi", "Lack of software capacity", &["software", "skills"], false, "open"),
    (
        "documentation",
        "dig",
        "tuzla",
        "Time-consuming documentation of the digitisation process",
        &["digitisation", "process"],
        false,
        "open",
    ),
    ("literacy", "dig", "elbasan", "Low digital literacy", &["digital-literacy", "inclusion"], false, "open"),
    (
        "archives",
        "dig",
        "nis",
        "City archives are not compatible",
        &["archives", "interoperability"],
        false,
        "addressed",
    ),
    ("permits", "dig", "bitola", "Building permits still run on paper", &["e-services", "permits"], false, "open"),
    (
        "citizen-data",
        "dig",
        "balti",
        "Citizen data is scattered across departments",
        &["interoperability", "data"],
        false,
        "open",
    ),
    ("eservices", "dig", "rustavi", "Few municipal services are available online", &["e-services"], false, "open"),
    ("broadband", "dig", "cahul", "Rural settlements lack broadband", &["connectivity", "inclusion"], false, "open"),
    ("cyber", "dig", "mostar", "No plan for cyber incidents", &["cybersecurity"], true, "open"),
    (
        "innovation",
        "lab",
        "sarajevo",
        "Innovation management is slow and risk-averse",
        &["innovation", "public-administration"],
        false,
        "open",
    ),
    (
        "transparency",
        "lab",
        "banja-luka",
        "Citizens cannot follow how decisions are made",
        &["transparency"],
        false,
        "open",
    ),
];

/// (key, group, owner, title, status, challenges addressed)
pub type InitiativeRow =
    (&'static str, &'static str, &'static str, &'static str, &'static str, &'static [&'static str]);

/// Initiatives, some planned and some implemented.
pub const INITIATIVES: &[InitiativeRow] = &[
    ("register", "dig", "chisinau", "Unified citizen register", "implemented", &["citizen-data"]),
    ("app", "dig", "lviv", "Municipal services app", "implemented", &["eservices", "permits"]),
    ("seniors", "dig", "shkoder", "Digital literacy courses for seniors", "in_progress", &["literacy"]),
    ("archive-pilot", "dig", "kragujevac", "Archive digitisation pilot", "planned", &["archives"]),
    ("e-permits", "dig", "skopje", "e-Permits portal", "implemented", &["permits"]),
    (
        "open-source",
        "dig",
        "tirana",
        "Shared open-source components for municipal software",
        "in_progress",
        &["software"],
    ),
    ("lab-guide", "lab", "tuzla", "A guide to innovation for the administration", "implemented", &["innovation"]),
];

/// (key, group, owner, title, stage, challenges, initiatives, partners)
pub type ProjectIdeaRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// Project ideas at every stage, with partner municipalities.
pub const PROJECT_IDEAS: &[ProjectIdeaRow] = &[
    (
        "toolkit",
        "dig",
        "tuzla",
        "Regional open-source e-services toolkit",
        "project_defined",
        &["documentation", "eservices"],
        &["open-source"],
        &["mostar", "zenica", "tirana"],
    ),
    (
        "skills-hub",
        "dig",
        "elbasan",
        "Digital skills hub for citizens",
        "solution_defined",
        &["literacy"],
        &["seniors"],
        &["shkoder", "kumanovo"],
    ),
    (
        "archive-standard",
        "dig",
        "nis",
        "Interoperable municipal archive standard",
        "consolidated",
        &["archives"],
        &["archive-pilot"],
        &["kragujevac", "batumi"],
    ),
    (
        "citizen-app",
        "dig",
        "rustavi",
        "A services app for Rustavi's citizens",
        "idea",
        &["eservices"],
        &["app"],
        &["kutaisi"],
    ),
    ("open-decisions", "lab", "banja-luka", "Open decisions portal", "idea", &["transparency"], &[], &["sarajevo"]),
];

/// (key, author, target kind, target key, kind, body, author initiative, answer: (state, note))
pub type RecommendationRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<(&'static str, &'static str)>,
);

/// Recommendations across countries, some answered.
pub const RECOMMENDATIONS: &[RecommendationRow] = &[
    (
        "r1",
        "chisinau",
        "challenge",
        "citizen-data",
        "good_practice",
        "We merged our departmental registers into one citizen register; start with a shared identifier.",
        Some("register"),
        Some(("adopted", "We will pilot a shared identifier in 2022.")),
    ),
    (
        "r2",
        "lviv",
        "challenge",
        "eservices",
        "good_practice",
        "Our app covers 40 services; begin with the five most requested certificates.",
        Some("app"),
        Some(("acknowledged", "Thank you — we are mapping our most requested services.")),
    ),
    (
        "r3",
        "shkoder",
        "challenge",
        "literacy",
        "suggestion",
        "Train young volunteers to run courses in community centres.",
        Some("seniors"),
        None,
    ),
    (
        "r4",
        "kragujevac",
        "challenge",
        "archives",
        "caution",
        "Agree on metadata before scanning anything; we had to redo a year of work.",
        None,
        Some(("adopted", "Metadata schema agreed with Kragujevac.")),
    ),
    (
        "r5",
        "skopje",
        "challenge",
        "permits",
        "contact",
        "Talk to our e-permits team lead; happy to host a study visit.",
        Some("e-permits"),
        Some(("declined", "Our legal framework does not allow e-signatures yet.")),
    ),
    (
        "r6",
        "tirana",
        "project_idea",
        "toolkit",
        "resource",
        "Our component catalogue is public; reuse the forms engine.",
        Some("open-source"),
        None,
    ),
    (
        "r7",
        "mykolaiv",
        "challenge",
        "software",
        "suggestion",
        "Pool licences with neighbouring municipalities to cut costs.",
        None,
        None,
    ),
    (
        "r8",
        "mostar",
        "project_idea",
        "skills-hub",
        "suggestion",
        "Partner with the local university for trainers.",
        None,
        Some(("acknowledged", "")),
    ),
    (
        "r9",
        "sarajevo",
        "challenge",
        "transparency",
        "good_practice",
        "Publish council agendas as open data a week ahead.",
        None,
        None,
    ),
];
