"""NOT corral code: runs one of ASEXOR's scripts with asexor_compat.py loaded first and ASEXOR's
checkout on the path: python3 run_asexor.py ASEXOR_CHECKOUT/test/SCRIPT.py ARGS..."""
import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import asexor_compat  # noqa: E402,F401  (patches asyncio and aiohttp)

script = os.path.abspath(sys.argv[1])
checkout = os.path.dirname(os.path.dirname(script))
sys.path.insert(0, checkout)
sys.path.insert(0, os.path.dirname(script))
os.chdir(os.path.dirname(script))
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
