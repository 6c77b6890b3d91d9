//! Time. Events carry device time in Unix seconds; every date a person sees or a report counts is
//! an Asia/Shanghai (UTC+8, no daylight saving) calendar date.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::error::ParseError;

/// Asia/Shanghai: UTC+8 all year.
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("8 hours is a valid offset")
}

/// A moment, in Unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Midnight at the start of `date` in Shanghai.
    pub fn start_of(date: NaiveDate) -> Self {
        Self::from_local(date.and_hms_opt(0, 0, 0).expect("midnight exists"))
    }

    /// A Shanghai wall-clock time.
    pub fn from_local(local: NaiveDateTime) -> Self {
        let dt = shanghai()
            .from_local_datetime(&local)
            .single()
            .expect("a fixed offset has exactly one mapping");
        Self(dt.timestamp())
    }

    /// Parses `YYYY-MM-DD HH:MM` (or `…:SS`) as Shanghai time.
    pub fn parse_local(s: &str) -> Result<Self, ParseError> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
            .map(Self::from_local)
            .map_err(|_| ParseError::new("time", s, "expected YYYY-MM-DD HH:MM (Asia/Shanghai)"))
    }

    pub fn local(self) -> DateTime<FixedOffset> {
        shanghai()
            .timestamp_opt(self.0, 0)
            .single()
            .expect("in range")
    }

    /// The Shanghai calendar date of this moment.
    pub fn local_date(self) -> NaiveDate {
        self.local().date_naive()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.local().format("%Y-%m-%d %H:%M:%S"))
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(field: &'static str, s: &str) -> Result<NaiveDate, ParseError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ParseError::new(field, s, "expected YYYY-MM-DD"))
}

/// Where time comes from, so deadline and month-boundary tests are exact.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp(secs)
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Default)]
pub struct FakeClock(AtomicI64);

impl FakeClock {
    pub fn at(t: Timestamp) -> Self {
        Self(AtomicI64::new(t.0))
    }

    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }

    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_past_eleven_on_the_last_day_is_still_that_day_in_shanghai() {
        let t = Timestamp::parse_local("2026-06-30 23:30").unwrap();
        // 23:30 +08:00 is 15:30 UTC the same day.
        assert_eq!(t.0, 1_782_833_400);
        assert_eq!(
            t.local_date(),
            NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
        );
        assert_eq!(t.to_string(), "2026-06-30 23:30:00");
    }
}
