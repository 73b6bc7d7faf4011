//! Explanations in the model's words (specs/spec.md, "Explanations"). The assistants write each
//! suggestion with a rule-based reason, the facts they used. When a model is configured, this
//! background worker takes each new suggestion once, asks the model for one friendly sentence
//! from those facts, checks it, and stores it beside the reason; the panel hears of it live.
//! The event path never waits for it: the suggestion is already on screen with its reason, which
//! stays the text shown whenever the model is slow, fails, is over budget or answers something
//! that does not hold up.

use std::{collections::HashSet, sync::Arc, time::Duration};

use chrono::Utc;
use futures::StreamExt;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    chat::openai::wording::Phraser,
    db::{self, suggestions::WordingJob},
};

/// Wording attempts by `outcome`: `worded`, `rejected` (the sentence did not hold up), or why
/// there was none (`budget`, `timeout`, `provider`, `malformed`, `database`).
pub const WORDING: &str = "suggestion_wording_total";

/// Suggestions taken per claim; a burst (a sweep's proposals) drains in several.
const BATCH: u32 = 8;
/// Model calls in flight at once per replica.
const CONCURRENCY: usize = 4;
/// Only suggestions this fresh are worded. One that waited longer has been read already, and
/// a replica that starts with a model after running without one does not spend the day's
/// budget rewording old advice.
const FRESH: chrono::TimeDelta = chrono::TimeDelta::minutes(10);
/// A look at the queue without a wake-up: a notification lost with a dropped connection.
const IDLE_CHECK: Duration = Duration::from_secs(30);
/// Kept in step with the `explanation` column's check.
const MAX_CHARS: usize = 200;

pub struct Wording {
    pub db: PgPool,
    pub phraser: Phraser,
    /// Poked on every suggestion change any replica announces.
    pub wake: Arc<Notify>,
}

impl Wording {
    /// Words new suggestions until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.drain() => {}
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(IDLE_CHECK) => {}
            }
        }
    }

    /// Words every suggestion waiting, a batch at a time.
    async fn drain(&self) {
        loop {
            let jobs = match db::suggestions::claim_for_wording(&self.db, Utc::now() - FRESH, BATCH).await {
                Ok(jobs) => jobs,
                Err(e) => return tracing::warn!(error.message = %e, "cannot take suggestions for wording"),
            };
            let full = jobs.len() == BATCH as usize;
            futures::stream::iter(jobs).for_each_concurrent(CONCURRENCY, |job| self.word(job)).await;
            if !full {
                return;
            }
        }
    }

    #[tracing::instrument(name = "word_suggestion", skip_all, fields(suggestion.id = %job.suggestion_id, suggestion.kind = %job.kind))]
    async fn word(&self, job: WordingJob) {
        let outcome = match self.phraser.phrase(&self.db, job.user_id, &job.kind, &job.reason).await {
            Err(failure) => failure.label(),
            Ok(sentence) => match checked(&job.reason, &sentence) {
                None => {
                    tracing::info!(sentence = %sentence, "the model's wording did not hold up; the reason stays");
                    "rejected"
                }
                Some(explanation) => {
                    match db::suggestions::set_explanation(&self.db, job.suggestion_id, explanation).await {
                        Ok(_) => "worded",
                        Err(e) => {
                            tracing::warn!(error.message = %e, "cannot store a suggestion's wording");
                            "database"
                        }
                    }
                }
            },
        };
        metrics::counter!(WORDING, "outcome" => outcome).increment(1);
    }
}

/// The model's `sentence` if it holds up against the `facts` it was given: one line of at
/// most [`MAX_CHARS`] characters, no markup or links, and no number the facts do not state (a
/// sentence that says "3 days" where the facts say 2 is worse than none).
fn checked<'a>(facts: &str, sentence: &'a str) -> Option<&'a str> {
    let sentence = sentence.trim();
    let chars = sentence.chars().count();
    if chars == 0 || chars > MAX_CHARS || sentence.chars().any(char::is_control) {
        return None;
    }
    let lower = sentence.to_lowercase();
    if ["http:", "https:", "www.", "<", ">", "`", "*", "#", "[", "]"].iter().any(|m| lower.contains(m)) {
        return None;
    }
    let stated: HashSet<&str> = numbers(facts).collect();
    numbers(sentence).all(|n| stated.contains(n)).then_some(sentence)
}

/// The runs of digits in `text`.
fn numbers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FACTS: &str = "Due in 20 h, low priority; 3 urgent tasks already due today.";

    #[test]
    fn a_sentence_built_from_the_facts_holds_up() {
        let sentence = "  It is due in 20 h and you already have 3 urgent tasks today, so it can stay low. ";
        assert_eq!(
            checked(FACTS, sentence),
            Some("It is due in 20 h and you already have 3 urgent tasks today, so it can stay low.")
        );
        assert_eq!(
            checked(FACTS, "Plenty of time: three urgent ones come first."),
            Some("Plenty of time: three urgent ones come first.")
        );
    }

    #[test]
    fn a_number_the_facts_do_not_state_is_refused() {
        assert_eq!(checked(FACTS, "Due in 24 h, with 3 urgent tasks today."), None);
        assert_eq!(checked(FACTS, "Due in 20 h; 2 urgent tasks today."), None);
    }

    #[test]
    fn empty_long_multi_line_or_marked_up_answers_are_refused() {
        assert_eq!(checked(FACTS, "   "), None);
        assert_eq!(checked(FACTS, &"a".repeat(MAX_CHARS + 1)), None);
        assert!(checked(FACTS, &"a".repeat(MAX_CHARS)).is_some());
        assert_eq!(checked(FACTS, "Due in 20 h.\nLow priority."), None);
        assert_eq!(checked(FACTS, "See https://example.com for why."), None);
        assert_eq!(checked(FACTS, "It is **not** urgent."), None);
        assert_eq!(checked(FACTS, "<b>Low</b> priority."), None);
    }
}
