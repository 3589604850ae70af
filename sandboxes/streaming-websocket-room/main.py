# main.py: chat rooms over WebSockets, with a connection manager
import itertools
import json

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()


class ConnectionManager:
    """Who is connected to which room. One per process: it lives in this worker's memory."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[WebSocket, str]] = {}
        self.guests = itertools.count(1)

    async def connect(self, room: str, websocket: WebSocket) -> str:
        await websocket.accept()
        name = f"guest-{next(self.guests)}"
        self.rooms.setdefault(room, {})[websocket] = name
        print(f"[server] {name} joined {room}", flush=True)
        return name

    def disconnect(self, room: str, websocket: WebSocket) -> None:
        members = self.rooms.get(room, {})
        name = members.pop(websocket, None)
        if name is not None:
            print(f"[server] {name} left {room}, {len(members)} still there", flush=True)
        if not members:
            self.rooms.pop(room, None)

    async def broadcast(self, room: str, message: dict) -> None:
        # Iterate over a copy: members can join or leave while this loop awaits a send.
        for websocket, name in list(self.rooms.get(room, {}).items()):
            try:
                await websocket.send_json(message)
            except Exception as exc:  # the socket died since its handler last looked
                print(f"[server] dropping {name}: send failed ({type(exc).__name__})", flush=True)
                self.disconnect(room, websocket)


manager = ConnectionManager()


@app.websocket("/ws/{room}")
async def chat(websocket: WebSocket, room: str):
    name = await manager.connect(room, websocket)
    try:
        while True:
            text = await websocket.receive_text()  # raises WebSocketDisconnect when the client leaves
            try:
                message = json.loads(text)
            except ValueError:
                await websocket.close(code=1003, reason="JSON only")
                return
            await manager.broadcast(room, {"from": name, "text": message.get("text", "")})
    except WebSocketDisconnect:
        pass
    finally:
        manager.disconnect(room, websocket)  # however the handler ends: a clean leave, a bad message, an error
