//! Tests of `breakers` against a real PostgreSQL server (`test_db`); a file of
//! their own so the module graph stays free of circles.

use super::*;
use crate::store::postgres::test_db::TestDb;

fn row(state: &str, changed_at: Millis) -> BreakerRecord {
    BreakerRecord {
        scope: "node".into(),
        name: "web1".into(),
        state: state.into(),
        failures: 5,
        changed_at,
    }
}

#[test]
fn a_late_writer_does_not_undo_a_newer_change_and_reads_filter_by_time() {
    let Some(mut db) = TestDb::open() else { return };
    let mut statements = Statements::default();
    put(&mut db.client, &mut statements, &row("open", 100)).unwrap();
    put(&mut db.client, &mut statements, &row("closed", 200)).unwrap();
    put(&mut db.client, &mut statements, &row("open", 150)).unwrap();
    let rows = changed_since(&mut db.client, 0).unwrap();
    assert_eq!(rows, vec![row("closed", 200)]);
    assert!(changed_since(&mut db.client, 201).unwrap().is_empty());
}
