//! The metric snapshot a probe builds: static descriptors plus the samples the
//! groups fetched. Rendering (OpenMetrics or text 0.0.4) happens once at the end
//! of the probe, from this snapshot, into a fresh registry.

/// Prometheus metric type of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A value that can go up and down.
    Gauge,
    /// A monotonically increasing value (router counters, exported raw).
    Counter,
}

impl MetricKind {
    /// The type word used in `# TYPE` lines.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Gauge => "gauge",
            MetricKind::Counter => "counter",
        }
    }
}

/// A metric family's fixed description. Declared as `static`s in each group so
/// the README's metric reference can be checked against the code.
#[derive(Debug, PartialEq, Eq)]
pub struct MetricDesc {
    /// Full sample name as exposed in the text format (counters end in `_total`).
    pub name: &'static str,
    /// One-line help text.
    pub help: &'static str,
    /// The `# TYPE` of the family.
    pub kind: MetricKind,
    /// Label names, in the order samples give their values.
    pub labels: &'static [&'static str],
}

/// Declares a `static` [`MetricDesc`], documented with its name and help text:
///
/// ```text
/// metric!(
///     pub ID,          // the static (optional visibility)
///     "metric_name",   // MetricDesc::name
///     Gauge,           // a MetricKind variant
///     "Help text.",    // MetricDesc::help
///     ["label", ...]   // MetricDesc::labels (or the name of a label-list const)
/// );
/// ```
macro_rules! metric {
    (
        $(#[$meta:meta])*
        $vis:vis $id:ident, $name:literal, $kind:ident, $help:literal, [$($label:literal),* $(,)?] $(,)?
    ) => {
        $crate::collect::family::metric!(
            $(#[$meta])* $vis $id, $name, $kind, $help, &[$($label),*]
        );
    };
    (
        $(#[$meta:meta])*
        $vis:vis $id:ident, $name:literal, $kind:ident, $help:literal, $labels:expr $(,)?
    ) => {
        $(#[$meta])*
        #[doc = concat!("`", $name, "`: ", $help)]
        $vis static $id: $crate::collect::family::MetricDesc =
            $crate::collect::family::MetricDesc {
                name: $name,
                help: $help,
                kind: $crate::collect::family::MetricKind::$kind,
                labels: $labels,
            };
    };
}
pub(crate) use metric;

/// A sample value. Router counters are 64-bit integers and must not lose
/// precision on the way through an `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// An exact integer.
    Int(u64),
    /// A signed integer (e.g. days until expiry).
    Signed(i64),
    /// A floating-point value.
    Float(f64),
}

impl Value {
    /// As `f64` (possibly rounded), for tests and comparisons.
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Int(v) => v as f64,
            Value::Signed(v) => v as f64,
            Value::Float(v) => v,
        }
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Signed(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(u64::from(v))
    }
}

/// A label value: up to 23 bytes inline, longer values shared when cloned, so
/// the identity labels a group repeats over a router's families (a rule's
/// table, chain and id in four families) cost no allocation each.
pub type Label = smol_str::SmolStr;

/// One sample: label values (in the descriptor's label order) and a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Label values, aligned with [`MetricDesc::labels`].
    pub labels: Vec<Label>,
    /// Exact for router counters (see [`Value`]).
    pub value: Value,
}

impl Sample {
    /// The label values as owned strings, for comparisons in tests.
    pub fn label_strings(&self) -> Vec<String> {
        self.labels.iter().map(ToString::to_string).collect()
    }
}

/// A family with its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// What the family is.
    pub desc: &'static MetricDesc,
    /// One per label set; [`merge`] drops repeats.
    pub samples: Vec<Sample>,
    /// The group vouches that no two samples share a label set (it keyed
    /// them by something the router keeps unique, as firewall rule ids), so
    /// [`merge`] need not hash 160,000 label sets to find none.
    distinct: bool,
}

impl Family {
    /// An empty family.
    pub fn new(desc: &'static MetricDesc) -> Self {
        Self {
            desc,
            samples: Vec::new(),
            distinct: false,
        }
    }

    /// Marks the samples as having distinct label sets (see the field): only
    /// for a group that checked it, with a test that holds it to that.
    pub fn vouch_distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    /// Adds a sample; `labels` must match the descriptor's label count (a
    /// mismatch is a programming error caught by the tests of each group, and is
    /// dropped here rather than rendered malformed).
    pub fn push<L, V>(&mut self, labels: L, value: V)
    where
        L: IntoIterator,
        L::Item: Into<Label>,
        V: Into<Value>,
    {
        let labels: Vec<Label> = labels.into_iter().map(Into::into).collect();
        debug_assert_eq!(labels.len(), self.desc.labels.len(), "{}", self.desc.name);
        if labels.len() == self.desc.labels.len() {
            self.samples.push(Sample {
                labels,
                value: value.into(),
            });
        }
    }

    /// Adds a state set for one item: a sample for every state in `known`
    /// (its name appended to `labels`), 1 for `current` and 0 for the others,
    /// plus a sample of value 1 for `current` when it is not in `known`, so a
    /// state the router reports that this exporter does not know yet is kept.
    /// An empty `current` (the router said nothing) adds nothing.
    pub fn push_state_set<L: Clone + Into<Label>>(
        &mut self,
        labels: &[L],
        known: &[&str],
        current: &str,
    ) {
        let current = current.trim();
        if current.is_empty() {
            return;
        }
        let with = |state: &str| {
            let mut all: Vec<Label> = labels.iter().cloned().map(Into::into).collect();
            all.push(Label::new(state));
            all
        };
        for state in known {
            self.push(with(state), *state == current);
        }
        if !known.contains(&current) {
            self.push(with(current), 1u64);
        }
    }

    /// A family holding one unlabelled sample.
    pub fn single<V: Into<Value>>(desc: &'static MetricDesc, value: V) -> Self {
        let mut family = Self::new(desc);
        family.push(Vec::<Label>::new(), value);
        family
    }
}

/// Every sample of the families described by `desc`.
pub fn samples_of<'a>(
    families: &'a [Family],
    desc: &'static MetricDesc,
) -> impl Iterator<Item = &'a Sample> {
    samples_named(families, desc.name)
}

/// Every sample of the families named `name`: for tests, which assert the
/// exposed names; code uses [`samples_of`], so a rename is a compile error.
pub fn samples_named<'a>(families: &'a [Family], name: &str) -> impl Iterator<Item = &'a Sample> {
    families
        .iter()
        .filter(move |f| f.desc.name == name)
        .flat_map(|f| &f.samples)
}

/// Merges families with the same descriptor (e.g. the same metric filled by two
/// groups or probes of two modules) so each family is rendered once and
/// contiguously, and drops exact duplicate label sets (first wins).
///
/// Runs on every probe over every sample (160,000 on a router with 40,000
/// firewall rules), so duplicates are found by borrowing the label sets with a
/// fast hash instead of cloning them into a set.
pub fn merge(families: Vec<Family>) -> Vec<Family> {
    let mut out: Vec<Family> = Vec::with_capacity(families.len());
    for family in families {
        match out.iter_mut().find(|f| f.desc.name == family.desc.name) {
            Some(existing) => {
                existing.samples.extend(family.samples);
                // Two sources may repeat each other's series.
                existing.distinct = false;
            }
            None => out.push(family),
        }
    }
    for family in out.iter_mut().filter(|f| !f.distinct) {
        drop_repeated_label_sets(&mut family.samples);
    }
    out
}

/// Keeps the first sample of every label set.
fn drop_repeated_label_sets(samples: &mut Vec<Sample>) {
    if samples.len() < 2 {
        return;
    }
    let keep: Vec<bool> = {
        let mut seen = std::collections::HashSet::with_capacity_and_hasher(
            samples.len(),
            foldhash::fast::RandomState::default(),
        );
        samples
            .iter()
            .map(|s| seen.insert(s.labels.as_slice()))
            .collect()
    };
    if keep.iter().all(|&k| k) {
        return;
    }
    let mut keep = keep.into_iter();
    samples.retain(|_| keep.next().unwrap_or(true));
}

#[cfg(test)]
mod tests {
    use super::*;

    metric!(A, "a", Gauge, "a", ["x"]);
    metric!(B, "b_total", Counter, "b", []);

    #[test]
    fn merge_groups_families_and_drops_duplicate_series() {
        let mut a1 = Family::new(&A);
        a1.push(["1"], 1.0);
        let mut a2 = Family::new(&A);
        a2.push(["2"], 2.0);
        a2.push(["1"], 9.0);
        let merged = merge(vec![a1, Family::single(&B, 5u64), a2]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].samples.len(), 2);
        assert_eq!(merged[0].samples[0].value, Value::Float(1.0));
        assert_eq!(merged[1].desc.name, "b_total");
    }

    #[test]
    fn vouched_families_skip_the_check_until_merged_with_another_source() {
        let mut a = Family::new(&A).vouch_distinct();
        a.push(["1"], 1.0);
        a.push(["1"], 2.0);
        // Trusted alone (the group's own tests hold it to its word)...
        assert_eq!(merge(vec![a.clone()])[0].samples.len(), 2);
        // ...but not once another source joins it.
        let mut b = Family::new(&A).vouch_distinct();
        b.push(["2"], 3.0);
        assert_eq!(merge(vec![a, b])[0].samples.len(), 2);
    }

    #[test]
    fn state_sets_keep_unknown_states() {
        metric!(S, "s", Gauge, "s", ["item", "state"]);
        let mut f = Family::new(&S);
        let item = vec!["p1".to_string()];
        f.push_state_set(&item, &["on", "off"], "off");
        f.push_state_set(&["p2".to_string()], &["on", "off"], " blinking ");
        f.push_state_set(&["p3".to_string()], &["on", "off"], "");
        let got: Vec<(String, String, f64)> = f
            .samples
            .iter()
            .map(|s| {
                (
                    s.labels[0].to_string(),
                    s.labels[1].to_string(),
                    s.value.as_f64(),
                )
            })
            .collect();
        let want = [
            ("p1", "on", 0.0),
            ("p1", "off", 1.0),
            ("p2", "on", 0.0),
            ("p2", "off", 0.0),
            ("p2", "blinking", 1.0),
        ];
        assert_eq!(got, want.map(|(a, b, v)| (a.to_string(), b.to_string(), v)));
    }
}
