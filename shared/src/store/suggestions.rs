//! Suggestions and their follow-up: the list staff work from, the handling of one, and the
//! deletion of handled ones (with the phone number left for the answer) after the retention period.

use rusqlite::{OptionalExtension, Row, params};

use super::{Store, StoreError};
use crate::hall::{Millis, Suggestion, SuggestionStatus};

const COLUMNS: &str = "id, at, text, contact, source, status, reply, handled_by, handled_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(Suggestion, String)> {
    Ok((
        Suggestion {
            id: r.get(0)?,
            at: r.get(1)?,
            text: r.get(2)?,
            contact: r.get(3)?,
            source: r.get(4)?,
            status: SuggestionStatus::New,
            reply: r.get(6)?,
            handled_by: r.get(7)?,
            handled_at: r.get(8)?,
        },
        r.get(5)?,
    ))
}

fn with_status((mut s, status): (Suggestion, String)) -> Result<Suggestion, StoreError> {
    s.status = SuggestionStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("suggestion {} has status {status:?}", s.id)))?;
    Ok(s)
}

impl Store {
    /// New ones first, oldest first (they have waited longest for an answer); then handled ones,
    /// newest first.
    pub fn suggestion_list(
        &self,
        status: Option<SuggestionStatus>,
        limit: u32,
    ) -> Result<Vec<Suggestion>, StoreError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM suggestions WHERE (?1 IS NULL OR status = ?1)
             ORDER BY status != 'new', CASE WHEN status = 'new' THEN at ELSE -coalesce(handled_at, at) END, id
             LIMIT ?2"
        ))?;
        let rows = st.query_map(
            params![status.map(SuggestionStatus::as_str), limit],
            from_row,
        )?;
        rows.map(|r| with_status(r?)).collect()
    }

    pub fn suggestion(&self, id: i64) -> Result<Option<Suggestion>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM suggestions WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?
            .map(with_status)
            .transpose()
    }

    /// Record how a new suggestion was handled; false when it is gone or was handled already.
    pub fn save_suggestion_handling(&self, s: &Suggestion) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "UPDATE suggestions SET status = ?2, reply = ?3, handled_by = ?4, handled_at = ?5
             WHERE id = ?1 AND status = 'new'",
            params![s.id, s.status.as_str(), s.reply, s.handled_by, s.handled_at],
        )? > 0)
    }

    /// Delete suggestions handled before `before`: the rows go, and with them the phone number,
    /// the text and the reply.
    pub fn purge_handled_suggestions(&self, before: Millis) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM suggestions WHERE status != 'new' AND handled_at < ?1",
            [before],
        )?)
    }

    /// Delete every suggestion left before `before`, handled or not (the history limit).
    pub fn purge_suggestions_left_before(&self, before: Millis) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM suggestions WHERE at < ?1", [before])?)
    }

    /// Suggestions nobody has handled yet.
    pub fn new_suggestions(&self) -> Result<u32, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM suggestions WHERE status = 'new'",
            [],
            |r| r.get(0),
        )?)
    }
}
