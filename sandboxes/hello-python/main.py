import asyncio
import platform


async def main() -> None:
    await asyncio.sleep(0.01)
    print(f"hello from Python {platform.python_version()}")


asyncio.run(main())
