from providers.fake import FakeProvider, SimulatedPaas
from tests.fakes.clock import FakeClock
from tests.providers.kits import Kit, world_adder


def make_kit(clock: FakeClock) -> Kit:
    world = SimulatedPaas(clock)
    return Kit(provider=FakeProvider(world), world=world, clock=clock, add_app=world_adder(world))
