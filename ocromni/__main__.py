from ocromni.cli.main import run

run()
