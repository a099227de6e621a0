//! Runs per second sustained by `writers` store handles on one database, each
//! as a drover process would hold it (its own writer thread and connections),
//! each writing runs back to back for the measured time.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use drover::store::{Store, StoreLocation};

use super::run_writes::write_run;

/// Runs committed per second, all writers together.
pub fn runs_per_second(location: &StoreLocation, writers: usize, measure: Duration) -> f64 {
    let stores: Vec<Store> = (0..writers)
        .map(|_| Store::open_location(location, false).expect("open store"))
        .collect();
    // A run each first: connections open, statements prepared.
    for (w, store) in stores.iter().enumerate() {
        write_run(&store.writer(), w).expect("warm-up run");
    }
    let start = Arc::new(Barrier::new(writers + 1));
    let threads: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(w, store)| {
            let writer = store.writer();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                let until = Instant::now() + measure;
                let mut runs = 0u64;
                while Instant::now() < until {
                    write_run(&writer, w).expect("run written");
                    runs += 1;
                }
                runs
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let runs: u64 = threads.into_iter().map(|t| t.join().expect("writer")).sum();
    let took = began.elapsed();
    for store in &stores {
        store.close().expect("close");
    }
    runs as f64 / took.as_secs_f64()
}
