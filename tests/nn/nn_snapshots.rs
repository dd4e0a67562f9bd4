//! Snapshots of a training run for the training page: the snapshot at
//! step k holds the weights of a run stopped after k steps, and the last
//! one the trained network.

use backprop::explain::{SnapshotRecorder, TrainingPage, training_page_html};
use backprop::nn::{Loss, Mlp, MlpConfig, SavedModel, TrainConfig, Trainer};
use backprop::optim::{LrSchedule, Sgd, SgdConfig};
use backprop::{Graph, data};

fn trainer(steps: usize) -> Trainer {
    let g = Graph::new();
    let model = Mlp::new(&g, 2, &[6, 1], &MlpConfig::default()).unwrap();
    let opt = Box::new(Sgd::new(SgdConfig {
        lr: 0.5,
        ..Default::default()
    }));
    let config = TrainConfig {
        steps,
        schedule: LrSchedule::Constant,
        ..Default::default()
    };
    Trainer::new(g, model, opt, config)
}

fn saved(t: &Trainer) -> SavedModel {
    SavedModel::from_mlp(t.graph(), t.model(), Loss::Hinge, 2, None)
}

#[test]
fn the_snapshot_at_step_k_is_a_run_of_k_steps() {
    let d = data::moons(40, 0.1, 7);
    let mut t = trainer(12);
    let mut rec = SnapshotRecorder::new(&t, 2, None, 4).unwrap();
    t.fit_with(&d, |t, s| rec.record(t, s)).unwrap();
    let steps: Vec<usize> = rec.snapshots().iter().map(|s| s.step).collect();
    assert_eq!(steps, [0, 4, 8, 12]);
    for s in rec.snapshots() {
        let mut short = trainer(s.step);
        short.fit(&d, |_| {}).unwrap();
        assert_eq!(s.model, saved(&short), "step {}", s.step);
    }
    assert_eq!(rec.snapshots()[3].model, saved(&t));
    assert_eq!(rec.history().len(), 12);
}

#[test]
fn page_limits_are_errors_that_name_them() {
    let d = data::moons(10, 0.1, 7);
    let mut t = trainer(3);
    assert!(SnapshotRecorder::new(&t, 2, None, 1).is_err());
    let err = SnapshotRecorder::new(&t, 2, None, 102).unwrap_err();
    assert_eq!(err.to_string(), "snapshots must be from 2 to 101, got 102");
    let mut rec = SnapshotRecorder::new(&t, 2, None, 2).unwrap();
    t.fit_with(&d, |t, s| rec.record(t, s)).unwrap();
    for (grid, ok) in [(3, false), (4, true), (200, true), (201, false)] {
        let page = TrainingPage {
            grid,
            ..TrainingPage::new(&rec, &d)
        };
        assert_eq!(training_page_html(&page).is_ok(), ok, "grid {grid}");
    }
    let three = backprop::data::Dataset::new(vec![0.0; 6], vec![0, 1], 3).unwrap();
    let page = TrainingPage::new(&rec, &three);
    assert_eq!(
        training_page_html(&page).unwrap_err().to_string(),
        "the decision boundary is drawn over 2 features, but the data has 3"
    );
}

#[test]
fn snapshots_of_different_networks_are_refused() {
    let d = data::moons(10, 0.1, 7);
    let g = Graph::new();
    let small = Mlp::new(&g, 2, &[3, 1], &MlpConfig::default()).unwrap();
    let big = Mlp::new(&g, 2, &[4, 1], &MlpConfig::default()).unwrap();
    let snapshots = [
        backprop::explain::Snapshot {
            step: 0,
            model: SavedModel::from_mlp(&g, &small, Loss::Hinge, 2, None),
        },
        backprop::explain::Snapshot {
            step: 1,
            model: SavedModel::from_mlp(&g, &big, Loss::Hinge, 2, None),
        },
    ];
    let page = TrainingPage {
        title: "two networks",
        data: &d,
        snapshots: &snapshots,
        history: &[],
        grid: 10,
    };
    assert_eq!(
        training_page_html(&page).unwrap_err().to_string(),
        "the snapshot at step 0 is not the same network as the last"
    );
    let one = TrainingPage {
        snapshots: &snapshots[1..],
        ..page
    };
    assert!(training_page_html(&one).unwrap().contains("two networks"));
}
