//! What a virtual user does: the operations, their weights in the mix, and the request bodies
//! and list queries it sends. Everything here is pure, so the mix can be tested without a
//! server.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rand::Rng;
use serde::Serialize;
use serde_json::{Value, json};

/// One kind of request. `SignUp` happens only during setup and `ListPage` only as the follow-up
/// of a `List` that returned a cursor; neither has a weight of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    SignUp,
    SignIn,
    List,
    ListPage,
    Get,
    Create,
    Update,
    Complete,
    Reopen,
    Delete,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Self::SignUp => "sign_up",
            Self::SignIn => "sign_in",
            Self::List => "list",
            Self::ListPage => "list_page",
            Self::Get => "get",
            Self::Create => "create",
            Self::Update => "update",
            Self::Complete => "complete",
            Self::Reopen => "reopen",
            Self::Delete => "delete",
        }
    }

    /// The status a correct answer has; anything else counts as an error.
    pub fn expected_status(self) -> u16 {
        match self {
            Self::SignUp | Self::Create => 201,
            Self::Delete => 204,
            _ => 200,
        }
    }
}

/// The operations in proportion, in parts per thousand so the 5% "reopen or delete" share can
/// be split evenly.
pub const DEFAULT_WEIGHTS: [(Op, u32); 8] = [
    (Op::SignIn, 50),
    (Op::List, 350),
    (Op::Get, 100),
    (Op::Create, 200),
    (Op::Update, 150),
    (Op::Complete, 100),
    (Op::Reopen, 25),
    (Op::Delete, 25),
];

/// A weighted picker: each operation owns a slice of `0..total` as wide as its weight.
#[derive(Debug, Clone)]
pub struct Mix {
    /// Upper end (exclusive) of each operation's slice, ascending.
    bounds: Vec<(u32, Op)>,
    total: u32,
}

impl Mix {
    pub fn new(weights: &[(Op, u32)]) -> Self {
        let mut total = 0;
        let bounds = weights
            .iter()
            .filter(|(_, w)| *w > 0)
            .map(|&(op, w)| {
                total += w;
                (total, op)
            })
            .collect();
        Self { bounds, total }
    }

    /// The operation whose slice holds `roll`; `roll` must be below `total()`.
    pub fn pick(&self, roll: u32) -> Op {
        let index = self.bounds.partition_point(|&(upper, _)| upper <= roll);
        self.bounds.get(index).or_else(|| self.bounds.last()).map_or(Op::List, |&(_, op)| op)
    }

    pub fn total(&self) -> u32 {
        self.total
    }

    pub fn sample(&self, rng: &mut impl Rng) -> Op {
        self.pick(rng.random_range(0..self.total().max(1)))
    }
}

impl Mix {
    /// The default mix with some weights changed: `sign_in=0,create=400`. Lets a run isolate
    /// a part of the API (without sign-in, Argon2 no longer dominates the CPU).
    pub fn with_overrides(spec: &str) -> Result<Self, String> {
        let mut weights = DEFAULT_WEIGHTS;
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) =
                part.split_once('=').ok_or_else(|| format!("`{part}` is not name=weight"))?;
            let weight: u32 =
                weight.trim().parse().map_err(|_| format!("`{part}`: weight is not a number"))?;
            let slot = weights.iter_mut().find(|(op, _)| op.name() == name.trim()).ok_or_else(|| {
                let names: Vec<&str> = DEFAULT_WEIGHTS.iter().map(|(op, _)| op.name()).collect();
                format!("`{name}` is not one of {}", names.join(", "))
            })?;
            slot.1 = weight;
        }
        let mix = Self::new(&weights);
        if mix.total == 0 {
            return Err("every weight is zero".into());
        }
        Ok(mix)
    }

    /// Each operation's share of the mix in percent, for the report.
    pub fn shares(&self) -> Vec<(Op, f64)> {
        let mut lower = 0;
        self.bounds
            .iter()
            .map(|&(upper, op)| {
                let share = f64::from(upper - lower) * 100.0 / f64::from(self.total);
                lower = upper;
                (op, share)
            })
            .collect()
    }
}

impl Default for Mix {
    fn default() -> Self {
        Self::new(&DEFAULT_WEIGHTS)
    }
}

/// The list screens a user flips between: filters, sorts and page sizes the UI offers. Small
/// pages on some of them make `nextCursor` appear with only a few dozen tasks per user, so
/// keyset paging is exercised too.
pub const LIST_QUERIES: [&str; 6] = [
    "status=open&sort=dueAt&order=asc&limit=50",
    "priority=high,urgent&sort=priority&order=desc&limit=20",
    "tag=work&limit=10",
    "search=report&limit=20",
    "status=completed&sort=updatedAt&order=desc&limit=10",
    "sort=title&order=asc&limit=10",
];

const TITLES: [&str; 10] = [
    "Write the quarterly report",
    "Review open pull requests",
    "Call the dentist",
    "Pay the electricity bill",
    "Prepare the sprint report",
    "Buy groceries",
    "Book flights for the conference",
    "Update the budget spreadsheet",
    "Send the weekly status report",
    "Renew the car insurance",
];

const TAGS: [&str; 5] = ["work", "home", "errands", "health", "finance"];

const PRIORITIES: [&str; 4] = ["low", "medium", "high", "urgent"];

pub fn random_priority(rng: &mut impl Rng) -> &'static str {
    PRIORITIES[rng.random_range(0..PRIORITIES.len())]
}

pub fn random_title(rng: &mut impl Rng, serial: u64) -> String {
    format!("{} #{serial}", TITLES[rng.random_range(0..TITLES.len())])
}

/// Zero to two distinct tags, "work" the most common as in a real list.
pub fn random_tags(rng: &mut impl Rng) -> Vec<&'static str> {
    let mut tags = Vec::with_capacity(2);
    if rng.random_bool(0.4) {
        tags.push("work");
    }
    if rng.random_bool(0.5) {
        let other = TAGS[rng.random_range(1..TAGS.len())];
        tags.push(other);
    }
    tags
}

/// A create body as the UI sends it: most tasks have a due date within the next month, one in
/// seven of those repeats weekly.
pub fn new_task_body(rng: &mut impl Rng, serial: u64, now: DateTime<Utc>) -> Value {
    let mut body = json!({
        "title": random_title(rng, serial),
        "priority": random_priority(rng),
        "tags": random_tags(rng),
    });
    if rng.random_bool(0.8) {
        let due = now + Duration::minutes(rng.random_range(60..60 * 24 * 30));
        body["dueAt"] = json!(due.to_rfc3339_opts(SecondsFormat::Secs, true));
        if rng.random_bool(0.15) {
            body["recurrence"] = json!({ "frequency": "weekly" });
        }
    }
    body
}

/// A PATCH body changing one or two fields, the way an edit in the UI does.
pub fn update_body(rng: &mut impl Rng, serial: u64) -> Value {
    match rng.random_range(0..3) {
        0 => json!({ "priority": random_priority(rng) }),
        1 => json!({ "title": random_title(rng, serial) }),
        _ => json!({ "priority": random_priority(rng), "tags": random_tags(rng) }),
    }
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    #[test]
    fn the_default_mix_adds_up_to_a_thousand() {
        assert_eq!(Mix::default().total(), 1000);
    }

    #[test]
    fn each_roll_lands_in_the_slice_of_its_operation() {
        let mix = Mix::default();
        let expected = [
            (0, Op::SignIn),
            (49, Op::SignIn),
            (50, Op::List),
            (399, Op::List),
            (400, Op::Get),
            (499, Op::Get),
            (500, Op::Create),
            (699, Op::Create),
            (700, Op::Update),
            (849, Op::Update),
            (850, Op::Complete),
            (949, Op::Complete),
            (950, Op::Reopen),
            (974, Op::Reopen),
            (975, Op::Delete),
            (999, Op::Delete),
        ];
        for (roll, op) in expected {
            assert_eq!(mix.pick(roll), op, "roll {roll}");
        }
    }

    #[test]
    fn zero_weights_are_never_picked() {
        let mix = Mix::new(&[(Op::Get, 0), (Op::Create, 3), (Op::Delete, 0), (Op::List, 1)]);
        assert_eq!(mix.total(), 4);
        let picks: Vec<Op> = (0..4).map(|r| mix.pick(r)).collect();
        assert_eq!(picks, [Op::Create, Op::Create, Op::Create, Op::List]);
    }

    #[test]
    fn overrides_change_only_the_named_weights() {
        let mix = Mix::with_overrides("sign_in=0, create=250").unwrap();
        assert_eq!(mix.total(), 1000);
        let shares = mix.shares();
        assert_eq!(shares.len(), 7);
        assert!(!shares.iter().any(|(op, _)| *op == Op::SignIn));
        assert!(shares.contains(&(Op::Create, 25.0)));
        assert!(shares.contains(&(Op::List, 35.0)));
        assert!(Mix::with_overrides("teleport=3").unwrap_err().contains("not one of"));
        assert!(Mix::with_overrides("list").is_err());
        assert!(
            Mix::with_overrides("sign_in=0,list=0,get=0,create=0,update=0,complete=0,reopen=0,delete=0")
                .is_err()
        );
    }

    #[test]
    fn sampling_follows_the_weights() {
        let mix = Mix::default();
        let mut rng = StdRng::seed_from_u64(7);
        let n = 100_000;
        let lists = (0..n).filter(|_| mix.sample(&mut rng) == Op::List).count();
        // 35% of 100,000 with a binomial standard deviation of about 150.
        assert!((34_250..=35_750).contains(&lists), "{lists} lists");
    }

    #[test]
    fn recurring_tasks_always_have_a_due_date() {
        let mut rng = StdRng::seed_from_u64(1);
        let now = Utc::now();
        let bodies: Vec<Value> = (0..2000).map(|i| new_task_body(&mut rng, i, now)).collect();
        assert!(bodies.iter().any(|b| b.get("recurrence").is_some()));
        assert!(bodies.iter().filter(|b| b.get("recurrence").is_some()).all(|b| b.get("dueAt").is_some()));
    }
}
