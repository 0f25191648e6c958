//! The result table: one row per measure, each a value against its ceiling
//! measured in the same run, the ratio, the target and whether it is met.

use std::fmt::Write as _;

use serde::Serialize;

/// What a row's target asks of it.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "kind", content = "bound", rename_all = "snake_case")]
pub enum Target {
    /// ratio ≤ bound.
    RatioAtMost(f64),
    /// ratio ≥ bound.
    RatioAtLeast(f64),
    /// value ≤ bound (e.g. 0 lost events).
    ValueAtMost(f64),
}

impl Target {
    fn text(self) -> String {
        match self {
            Target::RatioAtMost(b) => format!("≤ {b}×"),
            Target::RatioAtLeast(b) => format!("≥ {b}×"),
            Target::ValueAtMost(0.0) => "= 0".into(),
            Target::ValueAtMost(b) => format!("≤ {b}"),
        }
    }
}

/// One measure.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub scenario: String,
    pub measure: String,
    pub value: f64,
    pub unit: &'static str,
    pub ceiling: Option<f64>,
    pub ratio: Option<f64>,
    pub target: Option<Target>,
    pub met: Option<bool>,
    /// Whether the target is a stretch goal.
    pub stretch: bool,
}

impl Row {
    /// A measure without a ceiling.
    pub fn info(scenario: &str, measure: impl Into<String>, value: f64, unit: &'static str) -> Row {
        Row {
            scenario: scenario.into(),
            measure: measure.into(),
            value,
            unit,
            ceiling: None,
            ratio: None,
            target: None,
            met: None,
            stretch: false,
        }
    }

    /// A measure against its ceiling (ratio = value / ceiling).
    pub fn against(scenario: &str, measure: impl Into<String>, value: f64, unit: &'static str, ceiling: f64) -> Row {
        let ratio = if ceiling > 0.0 { value / ceiling } else { f64::NAN };
        Row { ceiling: Some(ceiling), ratio: Some(ratio), ..Row::info(scenario, measure, value, unit) }
    }

    /// Set the target and judge it.
    pub fn target(mut self, target: Target) -> Row {
        self.met = Some(match target {
            Target::RatioAtMost(b) => self.ratio.is_some_and(|r| r <= b),
            Target::RatioAtLeast(b) => self.ratio.is_some_and(|r| r >= b),
            Target::ValueAtMost(b) => self.value <= b,
        });
        self.target = Some(target);
        self
    }

    /// Mark the target as a stretch goal.
    pub fn stretch(mut self) -> Row {
        self.stretch = true;
        self
    }
}

/// `v` with about three significant digits.
fn number(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    if a == 0.0 || a >= 100.0 {
        let rounded = v.round() as i64;
        let digits = rounded.unsigned_abs().to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if rounded < 0 { format!("-{grouped}") } else { grouped }
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn with_unit(v: f64, unit: &str) -> String {
    if unit.is_empty() { number(v) } else { format!("{} {unit}", number(v)) }
}

/// The rows as a Markdown table (what the bench prints, and what
/// BENCHMARKS.md quotes).
pub fn render(rows: &[Row]) -> String {
    let header = ["scenario", "measure", "value", "ceiling", "ratio", "target", "met?"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.scenario.clone(),
                r.measure.clone(),
                with_unit(r.value, r.unit),
                r.ceiling.map_or_else(|| "—".into(), |c| with_unit(c, r.unit)),
                r.ratio.map_or_else(|| "—".into(), |x| format!("{x:.2}×")),
                r.target.map_or_else(
                    || "—".into(),
                    |t| if r.stretch { format!("{} (stretch)", t.text()) } else { t.text() },
                ),
                match r.met {
                    Some(true) => "yes".into(),
                    Some(false) => "**no**".into(),
                    None => "—".into(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| {
        let mut s = String::from("|");
        for (c, w) in cols.iter().zip(widths) {
            let _ = write!(s, " {c}{} |", " ".repeat(w - c.chars().count()));
        }
        s.push('\n');
        s
    };
    let mut out = line(&header.map(str::to_owned));
    out.push_str(&line(&widths.map(|w| "-".repeat(w))));
    for row in &cells {
        out.push_str(&line(row));
    }
    out
}
