"""Seed 004's PyTorch program as its text writes it (../shared/seeds/004_a3d173c9c78b8464.txt, "Code Snippet: A
Simple Backpropagation Implementation", lines 61-90), with torch.manual_seed(0) so its weights are reproducible.

``seed004()`` returns what the program builds before it trains, for ``symbackprop from-torch
examples.seed004_program:seed004 -o derivations/seed004_torch.toml``; run as a script, it trains one step as the
text does and prints the loss and the updated weights.
"""

import torch

SOURCE = "../shared/seeds/004_a3d173c9c78b8464.txt: Code Snippet, lines 61-90, as written, with torch.manual_seed(0)"


# Define a simple two-layer neural network
class SimpleNN(torch.nn.Module):
    def __init__(self):
        super(SimpleNN, self).__init__()  # noqa: UP008 - as the text writes it
        self.fc1 = torch.nn.Linear(2, 2)
        self.fc2 = torch.nn.Linear(2, 1)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = self.fc2(x)
        return x


def seed004():
    """The program's objects before its training step: (model, inputs, targets, criterion, optimizer) and where
    they come from."""
    torch.manual_seed(0)
    # Initialize model, loss function, and optimizer
    model = SimpleNN()
    criterion = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    # Sample data
    inputs = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    targets = torch.tensor([[1.0], [2.0]])
    return {
        "module": model, "inputs": inputs, "targets": targets, "loss": criterion, "optimizer": optimizer,
        "title": "Seed 004's PyTorch program: SimpleNN (Linear(2, 2), relu, Linear(2, 1)), MSELoss, SGD(lr=0.01)",
        "source": f"examples/seed004_program.py ({SOURCE}), through symbackprop from-torch "
                  "examples.seed004_program:seed004",
        "notes": "The text's program as written: float32 weights drawn by nn.Linear after torch.manual_seed(0) (the text "
                 "sets no seed and states no numbers), its inputs [[1, 2], [3, 4]] and targets [[1], [2]], MSELoss, "
                 "SGD(lr=0.01) and one optimizer.step(). The initial values below are those float32 weights exactly. "
                 "There are no claims: the text states no value.",
    }


if __name__ == "__main__":
    objects = seed004()
    model, criterion, optimizer = objects["module"], objects["loss"], objects["optimizer"]
    inputs, targets = objects["inputs"], objects["targets"]
    # Forward pass
    outputs = model(inputs)
    loss = criterion(outputs, targets)

    # Backward pass and weight update
    loss.backward()
    optimizer.step()
    print(f"loss {loss.item()}")
    for name, p in model.named_parameters():
        print(name, p.detach().tolist())
