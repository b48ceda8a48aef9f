//! Splitting a run across CI jobs (`run --shard K/N`), and the fingerprint of a selection that
//! tells whether shard reports belong to one run (`report merge`).
//!
//! A shard takes the selected scenarios **by index in catalogue order, round-robin**: scenario
//! `i` (0-based) of the selection goes to shard `i mod N + 1`. That is deterministic on every
//! machine (the catalogue's order is its files' order), the shards differ in size by one at
//! most, and each group is spread over all shards, so the slow `fault/` and `retry/` timeouts
//! do not all land in one job. A hash of the id would keep a scenario in its shard when others
//! are added, but gives uneven shards on a catalogue of 70; the fingerprint makes that
//! stability unnecessary, since shards of different selections are refused when merged.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;

/// One slice of a run: shard `index` of `count` (1-based, as `--shard K/N` writes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which slice, 1 to `count`.
    pub index: usize,
    /// How many slices the selection is cut into.
    pub count: usize,
}

impl Shard {
    /// The scenarios of this shard: every `count`-th of `selected`, from the `index`-th on.
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::shard::Shard;
    /// let shard: Shard = "2/3".parse().unwrap();
    /// assert_eq!(shard.select(vec!['a', 'b', 'c', 'd', 'e']), ['b', 'e']);
    /// ```
    pub fn select<T>(&self, selected: Vec<T>) -> Vec<T> {
        selected
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.count == self.index - 1)
            .map(|(_, s)| s)
            .collect()
    }

    /// Whether position `i` (0-based) of the selection belongs to this shard.
    pub fn holds(&self, i: usize) -> bool {
        i % self.count == self.index - 1
    }

    /// How many of `total` selected scenarios this shard holds.
    pub fn len_of(&self, total: usize) -> usize {
        (0..total).filter(|&i| self.holds(i)).count()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardSpecError;

    fn from_str(s: &str) -> Result<Shard, ShardSpecError> {
        let shape = || ShardSpecError { spec: s.to_owned() };
        let (k, n) = s.split_once('/').ok_or_else(shape)?;
        let (index, count): (usize, usize) = (
            k.trim().parse().map_err(|_| shape())?,
            n.trim().parse().map_err(|_| shape())?,
        );
        if index == 0 || index > count {
            return Err(shape());
        }
        Ok(Shard { index, count })
    }
}

/// A `--shard` value that is not `K/N` with `1 <= K <= N`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardSpecError {
    /// The value as given.
    pub spec: String,
}

impl fmt::Display for ShardSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}`: expected K/N with 1 <= K <= N, e.g. 2/3",
            self.spec
        )
    }
}

impl std::error::Error for ShardSpecError {}

/// What a run was cut from: the fingerprint of the selected scenarios and how many there were.
/// Two reports belong to one run only if they carry the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// `sha256:` and the hex SHA-256 of the selected scenarios as loaded (their JSON, in
    /// order): any change to a scenario, the selection or its order changes it.
    pub fingerprint: String,
    /// How many scenarios were selected (before sharding).
    pub scenarios: usize,
}

impl Selection {
    /// The selection of these scenarios, in this order.
    pub fn of(selected: &[&Scenario]) -> Selection {
        let json = serde_json::to_vec(selected).expect("scenarios serialise");
        let digest = ring::digest::digest(&ring::digest::SHA256, &json);
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        Selection {
            fingerprint: format!("sha256:{hex}"),
            scenarios: selected.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_out_of_range_is_refused_naming_the_value_and_the_rule() {
        let err = "4/3".parse::<Shard>().unwrap_err();
        assert_eq!(err, ShardSpecError { spec: "4/3".into() });
        insta::assert_snapshot!(err, @"`4/3`: expected K/N with 1 <= K <= N, e.g. 2/3");
    }
}
