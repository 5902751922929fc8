"""The pure decision core: no I/O, no clocks, no asyncio, no D-Bus.

Everything that decides what an item's status is, what to restart and which
transitions happened lives here, as functions of (policy, observation, state, now).
"""
