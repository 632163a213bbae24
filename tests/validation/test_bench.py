import pytest

from learned_actuators.validation.bench import BenchParams, write_bench_usd

pytestmark = pytest.mark.unit


def test_bench_usd_carries_mass_com_and_inertia(tmp_path):
    from pxr import Usd, UsdPhysics

    params = BenchParams(inertia=0.0069, mass=0.49, length=0.1, joint_name="elbow")
    path = write_bench_usd(params, tmp_path)
    assert write_bench_usd(params, tmp_path) == path  # cached
    stage = Usd.Stage.Open(str(path))
    arm = UsdPhysics.MassAPI(stage.GetPrimAtPath("/Bench/arm"))
    assert arm.GetMassAttr().Get() == pytest.approx(0.49)
    assert arm.GetCenterOfMassAttr().Get()[2] == pytest.approx(-0.1)
    # total inertia about the axis = m l² + link inertia + armature
    assert arm.GetDiagonalInertiaAttr().Get()[1] + 0.49 * 0.01 + params.armature == pytest.approx(0.0069, rel=1e-6)
    assert params.armature == pytest.approx(0.002, rel=1e-4)
    joint = UsdPhysics.RevoluteJoint(stage.GetPrimAtPath("/Bench/arm/elbow"))
    assert joint.GetAxisAttr().Get() == "Y"
    assert stage.GetPrimAtPath("/Bench").HasAPI(UsdPhysics.ArticulationRootAPI)


def test_bench_params_from_meta_and_overrides():
    p = BenchParams.from_meta({"mass": 0.49, "length": 0.1, "armature": 0.002})
    assert p.inertia == pytest.approx(0.0069)
    assert BenchParams.from_meta({"inertia": 0.01}, mass=0.0).inertia == 0.01
    assert BenchParams.from_meta({"inertia": 0.01}, inertia=0.02).inertia == 0.02


def test_bench_params_errors_name_the_field():
    with pytest.raises(ValueError, match="inertia unknown"):
        BenchParams.from_meta({"mass": 1.0})
    with pytest.raises(ValueError, match="below m·l²"):
        BenchParams(inertia=0.001, mass=1.0, length=0.1)
