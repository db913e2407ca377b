

def test_losses_name_failed_calls_unparsable_answers_then_each_control_in_order():
    from workbench.augment.jobs import losses

    result = {"failed_requests": 1, "unparsable": 3, "generated": 9, "added": 4,
              "dropped": {"length": 0, "language": 2, "near_duplicate": 3, "similarity": 0}}
    assert list(losses(result).items()) == [("failed_requests", 1), ("unparsable", 3), ("language", 2),
                                            ("near_duplicate", 3)]
    assert losses({"dropped": {"length": 0}}) == {}
