"""The one screen (一屏通览): the city's green-finance dashboard, computed from the published marts."""
