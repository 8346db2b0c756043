"""The benchmark checks the free disk before it starts: a build from empty that fills the disk fails late and
obscurely (issue 9: scale-1 run 28, 20 GB free)."""

import shutil

from bench import pipeline


def test_the_bench_refuses_to_start_without_the_disk_it_needs(tmp_path, capsys):
    root = tmp_path / "run"
    assert pipeline.main(["--scale", "0.002", "--root", str(root), "--min-free-gb", "1e9"]) == 2
    assert "GB needed at scale 0.002" in capsys.readouterr().err
    assert not root.exists()


def test_the_disk_needed_grows_with_the_scale(tmp_path):
    free_gb = shutil.disk_usage(tmp_path).free / 1e9
    assert pipeline.enough_disk(tmp_path, 0.0, None) is None
    assert "needed at scale 1" in pipeline.enough_disk(tmp_path, 1, free_gb * 2)
    assert "needed at scale" in pipeline.enough_disk(tmp_path, 2 * free_gb / pipeline.FREE_GB_AT_SCALE_1, None)
